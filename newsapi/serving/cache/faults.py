"""Disk-cache faults: counted every time, logged once per kind."""

from __future__ import annotations

import logging
import threading
import warnings

from newsapi.serving.metrics import Metrics

log = logging.getLogger("newsapi.serving.cache")


class FaultLog:
    """Counts a kind of fault every time and logs it only the first time."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self._seen: set[str] = set()
        self._lock = threading.Lock()  # the writer and the model thread both report

    def report(self, kind: str, message: str, *args: object) -> None:
        """Count a fault of ``kind``; log it if it is the first of its kind."""
        self.metrics.cache_faults.labels(kind).inc()
        with self._lock:
            first = kind not in self._seen
            self._seen.add(kind)
        if first:
            log.warning("disk cache fault (%s): " + message + "; serving without it", kind, *args)


def silence_joblib_cache_warnings() -> None:
    """Stop joblib's own warnings about entries it could not write or read.

    joblib reports a failed write with a ``warnings.warn`` whose text names the entry, so
    Python's "once per message" rule prints one per entry: a read-only cache folder logged
    hundreds a second. :class:`FaultLog` reports those faults instead (counted, logged once
    per kind). A process-wide filter: called once, at start-up.
    """
    from joblib.memory import CacheWarning

    warnings.filterwarnings("ignore", category=CacheWarning)
    warnings.filterwarnings("ignore", message="Unable to cache to disk")
    warnings.filterwarnings("ignore", message="Unable to write")
    warnings.filterwarnings("ignore", message="Persisting input arguments")
