"""Prometheus metrics, one registry per app so that tests can build apps side by side."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048)


class Metrics:
    """Every counter the service keeps."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "newsapi_http_requests",
            "HTTP requests by route, method and status",
            ["route", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "newsapi_http_request_duration_seconds",
            "time to answer, by route",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.predictions = Counter(
            "newsapi_predictions", "texts classified, by endpoint", ["endpoint"], registry=r
        )
        self.cache_hits = Counter("newsapi_cache_hits", "cache hits by tier", ["tier"], registry=r)
        self.cache_misses = Counter(
            "newsapi_cache_misses", "cache misses by tier", ["tier"], registry=r
        )
        self.cache_writes = Counter(
            "newsapi_cache_disk_writes", "entries written to the disk tier", registry=r
        )
        self.cache_writes_dropped = Counter(
            "newsapi_cache_disk_writes_dropped",
            "entries not written because the writer was at its budget",
            registry=r,
        )
        self.cache_faults = Counter(
            "newsapi_cache_faults",
            "disk cache faults (degraded to no cache)",
            ["kind"],
            registry=r,
        )
        self.batch_size = Histogram(
            "newsapi_model_batch_size", "texts per model call", buckets=BATCH_BUCKETS, registry=r
        )
        self.model_info = Gauge(
            "newsapi_model_info", "the model being served", ["model_version"], registry=r
        )
        self.reloads = Counter(
            "newsapi_model_reloads", "model reload attempts by outcome", ["outcome"], registry=r
        )
        # children resolved once: labels() costs more than inc() on the request path
        self.memory_hit = self.cache_hits.labels("memory")
        self.memory_miss = self.cache_misses.labels("memory")
        self.disk_hit = self.cache_hits.labels("disk")
        self.disk_miss = self.cache_misses.labels("disk")

    def set_model(self, version: str) -> None:
        self.model_info.clear()
        self.model_info.labels(version).set(1)

    def exposition(self) -> tuple[bytes, str]:
        """This worker's metrics in the Prometheus text format."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Pure ASGI middleware timing every request by its route template (cheap on the hot path)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: set[str]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes
        self._children: dict[tuple[str, str, int], Any] = {}
        self._timers: dict[str, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            path = scope["path"]
            route = path if path in self.routes else "other"
            key = (route, scope["method"], status)
            counter = self._children.get(key)
            if counter is None:
                counter = self._children[key] = self.metrics.requests.labels(
                    route, scope["method"], str(status)
                )
            counter.inc()
            timer = self._timers.get(route)
            if timer is None:
                timer = self._timers[route] = self.metrics.latency.labels(route)
            timer.observe(time.perf_counter() - started)
