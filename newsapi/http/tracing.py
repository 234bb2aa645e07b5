"""The request spans: one ``SERVER`` span per traced request, in front of the fast lane.

Installed by :func:`newsapi.http.app.create_app` only when traces are on
(:mod:`newsapi.serving.tracing`); off, this module is never imported. A traced request is one
that asks the model something or changes the server's state (any method but GET and HEAD on
one of the app's routes: predictions, explanations, V2 inference, feedback, reload, cache);
probes, ``/metrics``, ``/model`` and the docs are not. The client's ``traceparent`` (the
propagators of ``OTEL_PROPAGATORS``: W3C trace context by default) makes the span a child of
the client's; the span carries the HTTP attributes of OpenTelemetry's conventions, the
request's ``X-Request-Id``, the path that answered (``lane`` or ``app``), the answer's model
version and, from the service, its cache outcome.
"""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry import propagate
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import SpanKind, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsapi.http.fastlane import HANDLER
from newsapi.http.request_id import REQUEST_ID
from newsapi.serving.tracing import TRACE_ID
from newsapi.serving.tracing.spans import MODEL_VERSION, Tracing

UNTRACED_METHODS = frozenset({"GET", "HEAD"})
V2_MODELS = "/v2/models/"
VERSION_HEADER = b"x-model-version"

Headers = Iterable[tuple[bytes, bytes]]


class ScopeHeaders(Getter[Headers]):
    """Reads propagation fields from an ASGI scope's headers (names arrive lower-cased)."""

    def get(self, carrier: Headers, key: str) -> list[str] | None:
        name = key.lower().encode("latin-1")
        found = [value.decode("latin-1") for field, value in carrier if field == name]
        return found or None

    def keys(self, carrier: Headers) -> list[str]:
        return [field.decode("latin-1") for field, _ in carrier]


HEADERS = ScopeHeaders()


def route_of(path: str, routes: set[str]) -> str | None:
    """The route template of ``path`` (V2 paths by their ``{name}`` and ``{version}``), or
    None for a path the app does not route."""
    if path in routes:
        parts = path.split("/")
        if path.startswith(V2_MODELS) and len(parts) == 5:
            return f"{V2_MODELS}{{name}}/{parts[4]}"
        return path
    if path.startswith(V2_MODELS):
        parts = path.split("/")
        if len(parts) == 5 and parts[4] in ("infer", "explain"):
            return f"{V2_MODELS}{{name}}/{parts[4]}"
        if len(parts) == 7 and parts[4] == "versions" and parts[6] in ("infer", "explain"):
            return f"{V2_MODELS}{{name}}/versions/{{version}}/{parts[6]}"
    return None


class TracingMiddleware:
    """Pure ASGI: a span around each traced request (the module's docstring)."""

    def __init__(self, app: ASGIApp, tracing: Tracing, routes: set[str]) -> None:
        self.app = app
        self.tracer = tracing.tracer
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in UNTRACED_METHODS:
            await self.app(scope, receive, send)
            return
        route = route_of(scope["path"], self.routes)
        if route is None:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        attributes: dict[str, str | int] = {
            "http.request.method": method,
            "http.route": route,
            "url.path": scope["path"][:200],  # bounded: a V2 model name comes from the client
            "url.scheme": scope.get("scheme", "http"),
            "network.protocol.version": scope.get("http_version", "1.1"),
        }
        server, client = scope.get("server"), scope.get("client")
        if server:
            attributes["server.address"], attributes["server.port"] = server[0], server[1]
        if client:
            attributes["client.address"] = client[0]
        request_id = scope.get(REQUEST_ID)
        if request_id:
            attributes["newsapi.request_id"] = request_id
        parent = propagate.extract(scope["headers"], getter=HEADERS)
        with self.tracer.start_as_current_span(
            f"{method} {route}", context=parent, kind=SpanKind.SERVER, attributes=attributes
        ) as span:
            context = span.get_span_context()
            token = TRACE_ID.set(format(context.trace_id, "032x") if context.trace_flags.sampled
                                 else None)  # fmt: skip

            async def send_traced(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = message["status"]
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(StatusCode.ERROR)
                    for name, value in message.get("headers", ()):
                        if name == VERSION_HEADER:
                            span.set_attribute(MODEL_VERSION, value.decode("latin-1"))
                await send(message)

            try:
                await self.app(scope, receive, send_traced)
            finally:
                TRACE_ID.reset(token)
                span.set_attribute("newsapi.handler", scope.get(HANDLER, "app"))
