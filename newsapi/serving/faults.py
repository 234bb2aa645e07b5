"""Faults of the parts that work off the request path (the disk cache, the prediction log, the
feedback log): counted every time, logged once per kind, so that a read-only or full folder
is one line in the log and a rising metric, never a flood of lines or a failed request."""

from __future__ import annotations

import logging
import threading

from prometheus_client import Counter


class FaultLog:
    """Reports the faults of one part: ``"<what> fault (<kind>): <detail>; <after>"``, logged
    the first time a kind occurs; every time counted in ``counter`` (labelled by kind) when
    there is one."""

    def __init__(
        self, log: logging.Logger, what: str, after: str, counter: Counter | None = None
    ) -> None:
        self.log = log
        self.what = what
        self.after = after
        self.counter = counter
        self._seen: set[str] = set()
        self._lock = threading.Lock()  # a writer thread and the model thread may both report

    def report(self, kind: str, detail: str, *args: object) -> None:
        """Count a fault of ``kind``; log it if it is the first of its kind (``detail`` is a
        %-format of ``args``, formatted only then)."""
        if self.counter is not None:
            self.counter.labels(kind).inc()
        with self._lock:
            first = kind not in self._seen
            self._seen.add(kind)
        if first:
            self.log.warning(f"{self.what} fault (%s): {detail}; {self.after}", kind, *args)
