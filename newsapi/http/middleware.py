"""The metrics layer: every HTTP request counted and timed by its route template, and, when
asked (``NEWSAPI_ACCESS_LOG``, ``newsapi serve --access-log``), logged in one line.

Pure ASGI in front of everything else (cheap on the hot path); the layers behind it name the
path that answered in ``scope["newsapi.handler"]``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsapi.serving.metrics import Metrics

CLIENT_GONE = 499  # what proxies log for a client that left before its answer
LOGGED_PATH_CHARS = 200  # a longer path is cut in the access log (the line stays bounded)
MODEL_VERSION = b"x-model-version"

access = logging.getLogger("newsapi.access")


class MetricsMiddleware:
    """Pure ASGI middleware timing every request by its route template (cheap on the hot path).

    The layers behind it name the path that answered in ``scope["newsapi.handler"]``."""

    def __init__(
        self, app: ASGIApp, metrics: Metrics, routes: set[str], *, access_log: bool = False
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes
        self.access_log = access_log
        self._children: dict[tuple[str, str, int, str], Any] = {}
        self._timers: dict[str, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0  # no answer started
        gone = False
        version = b"-"

        async def send_with_status(message: Message) -> None:
            nonlocal status, version
            if message["type"] == "http.response.start":
                status = message["status"]
                if self.access_log:
                    for name, value in message.get("headers", ()):
                        if name.lower() == MODEL_VERSION:
                            version = value
            await send(message)

        async def receive_watching() -> Message:
            nonlocal gone
            message = await receive()
            gone = gone or message["type"] == "http.disconnect"
            return message

        try:
            await self.app(scope, receive_watching, send_with_status)
        finally:
            if not status:  # no answer: the client left first, or the app failed
                status = CLIENT_GONE if gone else 500
            path = scope["path"]
            route = path if path in self.routes else "other"
            handler = scope.get("newsapi.handler", "app")
            key = (route, scope["method"], status, handler)
            counter = self._children.get(key)
            if counter is None:
                counter = self._children[key] = self.metrics.requests.labels(
                    route, scope["method"], str(status), handler
                )
            counter.inc()
            timer = self._timers.get(route)
            if timer is None:
                timer = self._timers[route] = self.metrics.latency.labels(route)
            took = time.perf_counter() - started
            timer.observe(took)
            if self.access_log:
                log_request(scope, status, took, version)


def log_request(scope: Scope, status: int, took: float, version: bytes) -> None:
    """The access log's line: status, method, path as the client sent it (percent-encoded,
    so no control character reaches the log), milliseconds, model version."""
    raw = scope.get("raw_path") or scope["path"].encode("utf-8", "backslashreplace")
    path = raw.decode("ascii", "backslashreplace")
    if len(path) > LOGGED_PATH_CHARS:
        path = f"{path[:LOGGED_PATH_CHARS]}..."
    access.info(
        "%d %s %s %.1f ms model %s",
        status,
        scope["method"],
        path,
        took * 1000,
        version.decode("ascii", "backslashreplace"),
    )
