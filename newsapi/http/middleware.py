"""The metrics layer: every HTTP request counted and timed by its route template.

Pure ASGI in front of everything else (cheap on the hot path); the layers behind it name the
path that answered in ``scope["newsapi.handler"]``.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsapi.serving.metrics import Metrics

CLIENT_GONE = 499  # what proxies log for a client that left before its answer


class MetricsMiddleware:
    """Pure ASGI middleware timing every request by its route template (cheap on the hot path).

    The layers behind it name the path that answered in ``scope["newsapi.handler"]``."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: set[str]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes
        self._children: dict[tuple[str, str, int, str], Any] = {}
        self._timers: dict[str, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0  # no answer started
        gone = False

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
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
            timer.observe(time.perf_counter() - started)
