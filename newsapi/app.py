"""The FastAPI application: ``uvicorn newsapi.app:app``.

Importing this module builds the app object and reads configuration, nothing more: the model
is loaded in the lifespan, so a test can import it freely, and a missing or bad artifact stops
start-up with one clear line instead of failing every request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsapi import __version__
from newsapi.deps import RequestError
from newsapi.docs import install_docs
from newsapi.errors import NewsapiError
from newsapi.fastpath import FastPredictionPath
from newsapi.metrics import Metrics, MetricsMiddleware
from newsapi.routes import add_probes, build_router
from newsapi.schemas import request_adapters
from newsapi.service import Classifier, ModelNotReadyError
from newsapi.settings import Settings, get_settings
from newsapi.watch import watch_artifact

log = logging.getLogger("newsapi")

DESCRIPTION = """
Classifies short English texts into the newsgroup categories of the model trained by the
project's notebooks. `POST /prediction` keeps the book's contract (`{"text": ...}` in,
`{"category": ...}` out); answers are cached per model version, concurrent calls are batched.
"""


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
    """FastAPI with two layers in front of its own middleware stack: the metrics, which see
    every request, and the prediction fast lane, which answers well-formed predictions before
    FastAPI's per-request machinery (routing, error and telemetry layers, body limits) runs."""

    front: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.front is None:
            await super().__call__(scope, receive, send)
        else:
            await self.front(scope, receive, send)

    async def behind(self, scope: Scope, receive: Receive, send: Send) -> None:
        """FastAPI itself, for the layers in front."""
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; ``settings`` default to the environment (``NEWSAPI_*``)."""
    settings = settings or get_settings()
    _configure_logging()
    metrics = Metrics()
    errors: dict[str, str] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        classifier = Classifier(settings, metrics)
        try:
            await classifier.start()
        except NewsapiError as exc:
            # uvicorn prints this line (see StartupErrorMessage) and exits non-zero
            errors["startup"] = f"newsapi cannot start: {exc}"
            await classifier.stop()
            raise
        app.state.classifier = classifier
        if settings.admin_token is None:
            log.warning(
                "NEWSAPI_ADMIN_TOKEN is not set: DELETE /cache and POST /admin/reload are open "
                "to anyone who can reach this server"
            )
        watcher = None
        if settings.reload_watch:
            watcher = asyncio.create_task(watch_artifact(classifier, settings.reload_poll_interval))
        try:
            yield
        finally:
            app.state.classifier = None  # /readyz: 503 from now on
            if watcher is not None:
                watcher.cancel()
            await classifier.stop()

    app = NewsAPI(
        title="newsapi",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
        docs_url=None,  # newsapi.docs serves /docs and /redoc without a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.classifier = None
    one, many = request_adapters(settings.max_text_length, settings.max_batch_size)
    router = build_router(one, many)
    app.include_router(router)
    add_probes(app)
    install_docs(app)
    _add_error_handlers(app)
    paths = (getattr(r, "path", None) for r in [*router.routes, *app.routes])
    routes = {path for path in paths if isinstance(path, str)}
    app.add_middleware(StartupErrorMessage, errors=errors)
    lane = FastPredictionPath(
        app.behind, state=app.state, one=one, many=many, max_body_bytes=settings.max_body_bytes
    )
    app.front = MetricsMiddleware(lane, metrics=metrics, routes=routes)
    return app


def _configure_logging() -> None:
    """Give the project's loggers uvicorn's look when nothing else configured logging."""
    if not log.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestError)
    async def body_error(request: Request, exc: RequestError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    @app.exception_handler(ModelNotReadyError)
    async def not_ready(request: Request, exc: ModelNotReadyError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # one line in the log; no trace or path in the answer
        log.error("unhandled %s on %s: %r", type(exc).__name__, request.url.path, exc)
        return JSONResponse({"detail": "internal error"}, status_code=500)


app = create_app()
