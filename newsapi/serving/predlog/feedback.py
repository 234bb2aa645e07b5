"""Feedback: the correct labels sent to ``POST /feedback``, kept beside the prediction log.

One :class:`FeedbackLog` per worker, started with it when ``NEWSAPI_PREDICTION_LOG_DIR`` is
set. As the log's writer, it never makes a request wait: :meth:`FeedbackLog.submit` queues
the record (the queue bounded in bytes; over it the record is dropped and counted) and a
thread writes the records as Parquet files in ``<log dir>/feedback/``, with the log's own
file functions (:mod:`.files`: written whole under a hidden name, one name per worker and
start, the folder kept under ``NEWSAPI_PREDICTION_LOG_FEEDBACK_BYTES``, oldest files first).
A file is written once the records held reach ``NEWSAPI_PREDICTION_LOG_FILE_BYTES`` or
``NEWSAPI_PREDICTION_LOG_FILE_SECONDS`` after the first, and at stop.
"""

from __future__ import annotations

import functools
import logging
import os
import queue
import threading
import time
from dataclasses import astuple, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsapi.serving.faults import FaultLog
from newsapi.serving.metrics import Metrics
from newsapi.serving.predlog.accuracy import Accuracy
from newsapi.serving.predlog.files import log_files, trim, write_table
from newsapi.settings import PredictionLogSettings

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger("newsapi.serving.predlog")

FOLDER = "feedback"  #: the feedback files' folder, inside the log's
PATTERN = "feedback-*.parquet"
#: what a record costs beside its strings, queued or held (the object, its slots)
RECORD_BYTES = 300
#: most bytes of records waiting for the writer's thread: feedback comes one record a request
QUEUE_BYTES = 4 * 2**20


@dataclass(frozen=True, slots=True)
class Feedback:
    """One label sent to ``POST /feedback``."""

    time: datetime  #: when it was received (UTC)
    request_id: str | None  #: the logged request it labels (None: sent with its text)
    digest: bytes | None  #: the text's cache key under ``model_version``, when known
    text: str | None  #: the text, when the client sent it (so that it can be trained on)
    label: str  #: the correct category, one of the served model's
    model_version: str | None  #: the model whose answer is labelled, when known
    category: str | None  #: that model's answer, when known

    @property
    def size(self) -> int:
        strings = (self.request_id, self.text, self.label, self.model_version, self.category)
        return RECORD_BYTES + sum(len(s) for s in strings if s)


FIELDS = [field.name for field in fields(Feedback)]


@functools.cache
def schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("time", pa.timestamp("us", tz="UTC"), nullable=False),
            pa.field("request_id", pa.string()),
            pa.field("digest", pa.binary(16)),
            pa.field("text", pa.string()),
            pa.field("label", pa.string(), nullable=False),
            pa.field("model_version", pa.string()),
            pa.field("category", pa.string()),
        ]
    )


def as_table(records: list[Feedback]) -> pa.Table:
    """``records`` as a table of :func:`schema`."""
    import pyarrow as pa

    rows = [astuple(record) for record in records]
    columns: dict[str, Any] = {n: [row[i] for row in rows] for i, n in enumerate(FIELDS)}
    return pa.Table.from_pydict(columns, schema=schema())


def file_name(start: str, pid: int, sequence: int) -> str:
    return f"feedback-{start}-{pid}-{sequence:06d}.parquet"


def feedback_folder(log_dir: Path) -> Path:
    return log_dir / FOLDER


def read_feedback(log_dir: Path | str) -> pa.Table:
    """Every feedback record under the log folder ``log_dir``, oldest file first (an empty
    table of :func:`schema` when there is none)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = feedback_folder(Path(log_dir))
    tables = []
    for _, name, _ in log_files(folder, PATTERN):
        try:
            tables.append(pq.read_table(folder / name, schema=schema()))
        except FileNotFoundError:  # trimmed by a worker meanwhile
            continue
    return pa.concat_tables(tables) if tables else schema().empty_table()


class FeedbackLog:
    """Queues feedback without waiting and writes it as Parquet files; keeps the live
    accuracy gauges (:class:`~newsapi.serving.predlog.accuracy.Accuracy`)."""

    def __init__(self, settings: PredictionLogSettings, metrics: Metrics) -> None:
        if settings.prediction_log_dir is None:
            raise ValueError("feedback needs NEWSAPI_PREDICTION_LOG_DIR")
        self.folder = feedback_folder(settings.prediction_log_dir)
        self.bytes_limit = settings.prediction_log_feedback_bytes
        self.file_bytes = settings.prediction_log_file_bytes
        self.file_seconds = settings.prediction_log_file_seconds
        self.metrics = metrics
        self.accuracy = Accuracy(metrics, settings.prediction_log_window)
        self._queue: queue.SimpleQueue[Feedback | None] = queue.SimpleQueue()
        self._queued = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._start = ""
        self._sequence = 0
        self.faults = FaultLog(
            log, "feedback", "records not written are dropped (counted in "
            "newsapi_feedback_dropped), later faults of this kind only counted",
        )  # fmt: skip

    def submit(self, record: Feedback) -> bool:
        """Queue ``record`` without waiting; False (counted) when the queue is full."""
        if record.model_version is not None and record.category is not None:
            self.accuracy.add(record.model_version, record.category, record.label)
        with self._lock:
            if self._queued + record.size > QUEUE_BYTES:
                self.metrics.feedback_dropped.labels("queue").inc()
                return False
            self._queued += record.size
        self._queue.put(record)
        return True

    def start(self) -> None:
        self._start = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        self._thread = threading.Thread(target=self._loop, name="feedback-log", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Write what is queued and held, then stop."""
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join(timeout)
        self._thread = None

    def _loop(self) -> None:
        held: list[Feedback] = []
        held_bytes, first = 0, 0.0
        stopping = False
        while not stopping:
            wait = self.file_seconds - (time.monotonic() - first) if held else None
            item: Feedback | bool | None
            try:
                item = self._queue.get(timeout=None if wait is None else max(wait, 0.0))
            except queue.Empty:
                item = False  # the held records are due
            if item is None:
                stopping = True
            elif isinstance(item, Feedback):
                with self._lock:
                    self._queued -= item.size
                if not held:
                    first = time.monotonic()
                held.append(item)
                held_bytes += item.size
            due = held and time.monotonic() - first >= self.file_seconds
            if held and (stopping or due or held_bytes >= self.file_bytes):
                self._write(held)
                held, held_bytes = [], 0
        while True:  # queued after stop(): counted, not written
            try:
                if self._queue.get_nowait() is not None:
                    self.metrics.feedback_dropped.labels("stop").inc()
            except queue.Empty:
                return

    def _write(self, records: list[Feedback]) -> None:
        self._sequence += 1
        name = file_name(self._start, os.getpid(), self._sequence)
        try:
            write_table(self.folder, name, as_table(records))
        except OSError as exc:
            self.metrics.feedback_dropped.labels("fault").inc(len(records))
            self.faults.report("write", "%s (in %s)", exc, self.folder)
            return
        try:
            trim(self.folder, self.bytes_limit, PATTERN)
        except OSError as exc:
            self.faults.report("trim", "%s (in %s)", exc, self.folder)
        self.metrics.feedback_records.inc(len(records))  # counted once the folder is trimmed
