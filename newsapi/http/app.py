"""The FastAPI application: ``uvicorn newsapi.app:app``.

Importing this module builds the app object and reads configuration, nothing more: the model
is loaded in the lifespan, so a test can import it freely, and a missing or bad artifact stops
start-up with one clear line instead of failing every request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsapi import __version__
from newsapi.errors import NewsapiError
from newsapi.http import book, feedback, v2
from newsapi.http.connections import ConcurrencyRefusalLog
from newsapi.http.docs import install_docs
from newsapi.http.fastlane import FastLane
from newsapi.http.headers import HeaderRules
from newsapi.http.middleware import MetricsMiddleware
from newsapi.http.page import install_page
from newsapi.http.pipeline import (
    INTERNAL_ERROR,
    ApiError,
    BodyBudget,
    ClientDisconnect,
    render_error,
    validation_errors,
)
from newsapi.http.protocol import Endpoint, Protocol, owner
from newsapi.serving.activity import Activity
from newsapi.serving.metrics import Metrics
from newsapi.serving.results import ModelNotReadyError
from newsapi.serving.service import Classifier
from newsapi.serving.tracing import start_tracing
from newsapi.serving.watch import watch_artifact
from newsapi.settings import Settings, get_settings

if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider

log = logging.getLogger("newsapi")

DESCRIPTION = """
Classifies short English texts into the newsgroup categories of the model trained by the
project's notebooks. `POST /prediction` keeps the book's contract (`{"text": ...}` in,
`{"category": ...}` out); answers are cached per model version, concurrent calls are batched.
The same model answers the Open Inference Protocol (V2) under `/v2`.
"""
TAGS = [
    {"name": "predictions", "description": "The book's contract: texts in, categories out."},
    {"name": "Open Inference Protocol", "description": "The V2 REST protocol of KServe, "
     "MLServer and Triton clients; errors are `{\"error\": \"...\"}`."},
    {"name": "model", "description": "What is serving."},
    {"name": "operations", "description": "Probes, metrics and administration (admin routes "
     "take the bearer token when NEWSAPI_ADMIN_TOKEN is set)."},
]  # fmt: skip


#: the protocols the app speaks, each declared once in its package
PROTOCOLS: tuple[Protocol, ...] = (book.PROTOCOL, v2.PROTOCOL)


class StartupErrorMessage:
    """Makes a refused start-up print one clear line rather than a traceback.

    Starlette reports a lifespan failure with the formatted traceback; for the project's own
    errors (missing or tampered model...) this replaces it with the error's message.
    """

    def __init__(self, app: ASGIApp, errors: dict[str, str]) -> None:
        self.app = app
        self.errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def send_clean(message: Message) -> None:
            error = self.errors.get("startup")
            if message["type"] == "lifespan.startup.failed" and error:
                message = {**message, "message": error}
            await send(message)

        await self.app(scope, receive, send_clean)


class NewsAPI(FastAPI):
    """FastAPI with layers in front of its own middleware stack: the metrics, which see
    every request, the header rules (one Host header, nosniff), the allowed-hosts check, and
    the fast lane, which answers predictions before FastAPI's per-request machinery
    (routing, error and telemetry layers) runs."""

    front: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.front is None:
            await super().__call__(scope, receive, send)
        else:
            await self.front(scope, receive, send)

    async def behind(self, scope: Scope, receive: Receive, send: Send) -> None:
        """FastAPI itself, for the layers in front."""
        await super().__call__(scope, receive, send)


def create_app(
    settings: Settings | None = None, tracer_provider: TracerProvider | None = None
) -> FastAPI:
    """Build the app; ``settings`` default to the environment (``NEWSAPI_*``). Traces are
    on when the ``OTEL_*`` variables ask for them (:mod:`newsapi.serving.tracing`), or into
    ``tracer_provider`` when one is given (tests)."""
    settings = settings or get_settings()
    _configure_logging()
    tracing = start_tracing(tracer_provider)
    metrics = Metrics()
    errors: dict[str, str] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        metrics.worker_started()
        classifier = Classifier(settings, metrics, activity, tracing)
        try:
            await classifier.start()
        except NewsapiError as exc:
            # uvicorn prints this line (see StartupErrorMessage) and exits non-zero
            errors["startup"] = f"newsapi cannot start: {exc}"
            await classifier.stop()
            raise
        app.state.classifier = classifier
        app.state.feedback = feedback.start(settings, metrics)  # None: prediction log off
        if settings.admin.admin_token is None:
            log.warning(
                "NEWSAPI_ADMIN_TOKEN is not set: DELETE /cache and POST /admin/reload are open "
                "to anyone who can reach this server"
            )
        refusals = ConcurrencyRefusalLog(metrics.concurrency_refusals)
        refusals.install()
        watcher = None
        if settings.model.reload_watch:
            watcher = asyncio.create_task(
                watch_artifact(classifier, settings.model.reload_poll_interval)
            )
        try:
            yield
        finally:
            app.state.classifier = None  # /readyz: 503 from now on
            if watcher is not None:
                watcher.cancel()
            await classifier.stop()
            await feedback.stop(app.state.feedback)
            refusals.remove()
            if tracing is not None:  # the last spans go out (within a bound)
                await asyncio.to_thread(tracing.shutdown)
            metrics.worker_stopped()

    app = NewsAPI(
        title="newsapi",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        docs_url=None,  # newsapi.http.docs serves /docs and /redoc without a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.classifier = None
    app.state.feedback = None
    app.state.activity = activity = Activity()
    app.state.body_budget = BodyBudget(settings.limits.body_buffer_bytes, metrics.body_bytes_held)
    endpoints: dict[str, Endpoint] = {}
    # app.routes holds each included router as one entry without a path; the metrics' route
    # labels come from the routers' own routes
    routed: list[object] = []
    for protocol in PROTOCOLS:
        routes = protocol.build(settings)
        app.include_router(routes.router)
        endpoints.update(routes.lane)
        routed += routes.router.routes
    feedback_routes = feedback.build(settings)
    app.include_router(feedback_routes)
    routed += feedback_routes.routes
    install_docs(app)
    install_page(app)
    _add_error_handlers(app, PROTOCOLS)
    # metrics label requests by these paths; V2 routes by the served model's name
    name = settings.v2.model_name
    paths = [getattr(route, "path", None) for route in [*app.routes, *routed]]
    labels = {p.replace("{name}", name) for p in paths if isinstance(p, str)} | set(endpoints)
    app.add_middleware(StartupErrorMessage, errors=errors)
    lane = FastLane(
        app.behind, state=app.state, settings=settings, endpoints=endpoints, protocols=PROTOCOLS
    )
    inner: ASGIApp = lane
    if tracing is not None:  # off, OpenTelemetry's SDK is never imported, nor this layer
        from newsapi.http.tracing import TracingMiddleware

        inner = TracingMiddleware(lane, tracing, labels)
    hosts = TrustedHostMiddleware(inner, allowed_hosts=settings.admin.allowed_hosts)
    rules = HeaderRules(hosts, PROTOCOLS)  # one Host header (before its check), nosniff
    app.front = MetricsMiddleware(
        rules, metrics=metrics, routes=labels, access_log=settings.server.access_log
    )
    return app


def _configure_logging() -> None:
    """Give the project's loggers uvicorn's look when nothing else configured logging."""
    if not log.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)


def _add_error_handlers(app: FastAPI, protocols: Sequence[Protocol]) -> None:
    """Every error in the shape of the protocol that owns its path
    (:func:`newsapi.http.protocol.owner`)."""

    def respond(request: Request, error: ApiError, headers: Any = None) -> Response:
        errors = owner(protocols, request.url.path).errors
        status, content, base = render_error(error, errors)
        response = Response(content, status, headers=headers)
        for name, value in base:
            response.headers[name.decode()] = value.decode()
        return response

    @app.exception_handler(ApiError)
    async def refused(request: Request, exc: ApiError) -> Response:
        return respond(request, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return respond(request, ApiError(422, validation_errors(exc.errors(), where=None)))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return respond(request, ApiError(exc.status_code, str(exc.detail)), exc.headers)

    @app.exception_handler(ModelNotReadyError)
    async def not_ready(request: Request, exc: ModelNotReadyError) -> Response:
        return respond(request, ApiError(503, str(exc)))

    @app.exception_handler(ClientDisconnect)
    async def gone(request: Request, exc: ClientDisconnect) -> Response:
        return Response(status_code=499)  # nobody reads it; the metrics count 499

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> Response:
        # the body only: Starlette re-raises, and the lane's error rule logs the one line
        return respond(request, ApiError(500, INTERNAL_ERROR))


app = create_app()
