"""Prometheus metrics, one registry per app so that tests can build apps side by side.

With several workers, each is a process with its own counters. When prometheus_client's
``PROMETHEUS_MULTIPROC_DIR`` names an empty folder shared by the workers (``make serve``
sets one), every worker writes its values there and ``/metrics`` answers their sum,
whichever worker is asked (prometheus_client's multiprocess mode); the files of workers that
died are folded away (:mod:`newsapi.serving.metrics_folder`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics_core import Metric

from newsapi.serving.metrics_folder import MULTIPROCESS_ENV, fold_dead_workers, locked

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
WINDOW_PREFIX = "newsapi_prediction_window_"
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048)


class Metrics:
    """Every counter the service keeps."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.multiprocess = bool(os.environ.get(MULTIPROCESS_ENV))
        self.folder = Path(os.environ[MULTIPROCESS_ENV]) if self.multiprocess else None
        r = self.registry
        self.requests = Counter(
            "newsapi_http_requests",
            "HTTP requests by route, method, status (499: the client left first) and the "
            "path that answered (lane: the fast lane; app: FastAPI's routes)",
            ["route", "method", "status", "handler"],
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
            "newsapi_model_info",
            "the model being served",
            ["model_version"],
            registry=r,
            multiprocess_mode="livemax",  # 1 while some live worker serves that version
        )
        self._served: str | None = None
        self.model_fallback = Gauge(
            "newsapi_model_fallback",
            "1 while this worker serves the store's last good promoted model because the "
            "promoted pair was unusable at its start",
            registry=r,
            multiprocess_mode="livemax",
        )
        self.inference_fallback = Gauge(
            "newsapi_model_inference_fallback",
            "1 while the served model is computed by scikit-learn because the lean path does "
            "not support it (the reason is in /model and in the log)",
            registry=r,
            multiprocess_mode="livemax",
        )
        inference_texts = Counter(
            "newsapi_model_inference_texts",
            "texts the model computed, by path (lean: the compiled weights; scikit-learn: the "
            "fitted pipeline's own predict)",
            ["path"],
            registry=r,
        )
        self.body_bytes_held = Gauge(
            "newsapi_request_body_bytes_held",
            "bytes of request bodies still arriving in pieces, held at once "
            "(at most NEWSAPI_BODY_BUFFER_BYTES per worker)",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.header_timeouts = Counter(
            "newsapi_header_timeouts",
            "connections answered 408 and closed because a request's headers did not arrive "
            "within NEWSAPI_HEADER_TIMEOUT (before any route runs, so not in "
            "newsapi_http_requests)",
            registry=r,
        )
        self.header_refusals = Counter(
            "newsapi_header_refusals",
            "connections answered 431 and closed because a request's header section passed "
            "NEWSAPI_MAX_HEADER_BYTES (reason=bytes) or NEWSAPI_MAX_HEADERS (reason=count) "
            "(before any route runs, so not in newsapi_http_requests)",
            ["reason"],
            registry=r,
        )
        self.concurrency_refusals = Counter(
            "newsapi_concurrency_refusals",
            "requests uvicorn answered 503 because the worker was at --limit-concurrency "
            "(before any route runs, so not in newsapi_http_requests)",
            registry=r,
        )
        self.reloads = Counter(
            "newsapi_model_reloads", "model reload attempts by outcome", ["outcome"], registry=r
        )
        # children resolved once: labels() costs more than inc() on the request path
        self.memory_hit = self.cache_hits.labels("memory")
        self.memory_miss = self.cache_misses.labels("memory")
        self.disk_hit = self.cache_hits.labels("disk")
        self.disk_miss = self.cache_misses.labels("disk")
        # single texts the event loop computed itself (newsapi.serving.service)
        self.inline = self.predictions.labels("inline")
        self.inferred = {path: inference_texts.labels(path) for path in ("lean", "scikit-learn")}
        # the prediction log (newsapi.serving.predlog)
        self.prediction_log_records = Counter(
            "newsapi_prediction_log_records",
            "predictions written to the prediction log's files",
            registry=r,
        )
        self.prediction_log_dropped = Counter(
            "newsapi_prediction_log_dropped",
            "predictions not logged: the writer's queue was full (reason=queue), their file "
            "could not be written (reason=fault), or the writer stopped before it reached "
            "them (reason=stop)",
            ["reason"],
            registry=r,
        )
        self.prediction_log_faults = Counter(
            "newsapi_prediction_log_faults",
            "prediction log files that could not be written or removed, by kind (the first "
            "of each kind is logged)",
            ["kind"],
            registry=r,
        )
        self.prediction_log_bytes = Gauge(
            "newsapi_prediction_log_bytes",
            "bytes of log files in the prediction log's folder, as a worker last counted them",
            registry=r,
            multiprocess_mode="livemax",
        )
        # over each worker's last logged records (newsapi.serving.predlog.window); with
        # several workers, the values of the worker that updated last
        window: dict[str, Any] = {"registry": r, "multiprocess_mode": "livemostrecent"}
        self.prediction_window_records = Gauge(
            "newsapi_prediction_window_records",
            "records in the prediction log's sliding window of a model version "
            "(at most NEWSAPI_PREDICTION_LOG_WINDOW)",
            ["model_version"],
            **window,
        )
        self.prediction_window_category_share = Gauge(
            "newsapi_prediction_window_category_share",
            "share of each predicted category in the sliding window",
            ["model_version", "category"],
            **window,
        )
        self.prediction_window_score = Gauge(
            "newsapi_prediction_window_score",
            "mean top probability (kind=probability) or decision margin (kind=margin) in "
            "the sliding window",
            ["model_version", "kind"],
            **window,
        )
        self.prediction_window_oov_share = Gauge(
            "newsapi_prediction_window_oov_share",
            "mean share of a text's tokens outside the model's vocabulary in the sliding "
            "window (NaN: no text had a token)",
            ["model_version"],
            **window,
        )
        # feedback (newsapi.serving.predlog.feedback): labels sent to POST /feedback
        self.feedback_records = Counter(
            "newsapi_feedback_records",
            "feedback records written to the prediction log's feedback folder",
            registry=r,
        )
        self.feedback_dropped = Counter(
            "newsapi_feedback_dropped",
            "feedback records not written: the writer's queue was full (reason=queue), their "
            "file could not be written (reason=fault), or the writer stopped first (reason=stop)",
            ["reason"],
            registry=r,
        )
        self.prediction_window_feedback = Gauge(
            "newsapi_prediction_window_feedback",
            "feedback records naming an answer of a model version in its sliding window "
            "(the last NEWSAPI_PREDICTION_LOG_WINDOW this worker received)",
            ["model_version"],
            **window,
        )
        self.prediction_window_accuracy = Gauge(
            "newsapi_prediction_window_accuracy",
            "live accuracy: share of the feedback in the window whose label is the answer the "
            "model gave (NaN: no feedback yet)",
            ["model_version"],
            **window,
        )

    def set_model(self, version: str) -> None:
        if not self.multiprocess:
            self.model_info.clear()
        elif self._served is not None and self._served != version:
            # the shared files keep every label ever set: the old version goes to 0, which
            # the exposition leaves out (clear() would only warn in this mode)
            self.model_info.labels(self._served).set(0)
        self.model_info.labels(version).set(1)
        self._served = version

    def worker_started(self) -> None:
        """Fold away the files of workers that died before this one started (multiprocess
        mode): their live gauges would be reported for ever."""
        if self.folder is not None:
            fold_dead_workers(self.folder)

    def exposition(self) -> tuple[bytes, str]:
        """The metrics in the Prometheus text format: of every live worker (and the counts of
        the dead ones) in multiprocess mode, else of this one."""
        if self.folder is None:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        fold_dead_workers(self.folder)  # workers killed since the last look
        registry = CollectorRegistry()
        registry.register(_ServedVersions(self.folder))
        with locked(self.folder, exclusive=False):
            return generate_latest(registry), CONTENT_TYPE_LATEST

    def worker_stopped(self) -> None:
        """Drop this worker's live gauges from the shared folder (multiprocess mode)."""
        if self.folder is not None:
            multiprocess.mark_process_dead(os.getpid(), str(self.folder))  # type: ignore[no-untyped-call]


class _ServedVersions:
    """prometheus_client's multiprocess collector, less the model versions that no live
    worker serves any more (0 in the files of the workers that served them)."""

    def __init__(self, folder: Path) -> None:
        self._files = multiprocess.MultiProcessCollector(None, path=str(folder))  # type: ignore[no-untyped-call]

    def collect(self) -> Iterator[Metric]:
        families = list(self._files.collect())  # type: ignore[no-untyped-call]
        served: set[str] = set()
        for family in families:
            if family.name == "newsapi_model_info":
                family.samples = [sample for sample in family.samples if sample.value]
                served = {sample.labels["model_version"] for sample in family.samples}
        for family in families:
            if family.name.startswith(WINDOW_PREFIX):  # and so the windows of other versions
                family.samples = [s for s in family.samples if s.labels["model_version"] in served]
            yield family
