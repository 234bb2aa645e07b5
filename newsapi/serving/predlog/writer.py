"""The log writer: one per worker process, a background thread fed by a queue bounded in bytes.

:meth:`PredictionLog.submit` runs on the request path: it draws the sample, takes the time
and queues one tuple of references to what the request already holds (the text, its cache
key, the category, the model's version, the figures the model computed with the answer; a
call of several texts queues their lists), or drops and counts it when the queue holds
``queue_bytes`` already; it never waits for the writer. The writer's thread turns the texts
into columns
(:func:`~newsapi.serving.predlog.record.columns_of`, measuring only the texts that came
without their figures: cache hits, scikit-learn's answers), converts them to Arrow as they
come, holds the records of the next file in memory, and writes it whole
(:mod:`~newsapi.serving.predlog.files`) once they reach ``file_bytes`` or ``file_seconds``
after the first. A folder that cannot be written is one log line per kind of fault and a
count in ``/metrics``, and the records of that file are dropped (counted): the requests
never see it.
"""

from __future__ import annotations

import logging
import os
import queue
import random
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from itertools import chain, groupby
from operator import itemgetter
from pathlib import Path
from typing import Any

from newsapi.errors import NewsapiError
from newsapi.serving.faults import FaultLog
from newsapi.serving.metrics import Metrics
from newsapi.serving.predictor import Figures, Predictor
from newsapi.serving.predlog.files import file_name, trim, write_table
from newsapi.serving.predlog.recent import Recent
from newsapi.serving.predlog.record import (
    CHOSEN,
    ENTRY_FIELDS,
    RECORD_BYTES,
    SIZE,
    TEXT,
    VERSION,
    Call,
    Column,
    Entry,
    as_batch,
    columns_of,
    entries_of,
    schema,
)
from newsapi.serving.predlog.window import Windows
from newsapi.serving.tracing import TRACE_ID
from newsapi.settings import PredictionLogSettings

log = logging.getLogger("newsapi.serving.predlog")

# What a queued text costs beside its characters (held alive until written): its entry's
# tuple, its cache key, its request id; a call of several texts adds its lists.
ENTRY_BYTES = 240
CALL_BYTES = 400
FIGURES_BYTES = 200  # a text's figures: a tuple, a row of decision values, two ints
# Calls the writer takes from the queue in one go, and measures together: each drain has fixed
# costs (the columns' conversion, the figures stacked and scored, the window gauges set), so a
# few large drains cost less per record than many small ones.
DRAIN = 4096
# Texts measured in one go (cache hits, scikit-learn's answers), then the thread lets go
# of the GIL: a thread holding it makes the event loop wait up to the switch interval.
MEASURE_CHUNK = 128
# The writer looks at its queue this often (seconds) instead of waiting on it: a thread
# blocked on the queue is woken by every submit, and each wake-up takes the GIL from the event
# loop for one record's measures (a thread switch per request); looking now and then
# measures the texts of many requests in one go. It is woken sooner when a quarter of the
# queue's bound in bytes is waiting (large /predictions calls), so that a burst is not dropped
# while it sleeps. An idle writer looks less and less often, down to once every IDLE_POLL
# seconds.
POLL = 0.25
IDLE_POLL = 1.0
# The most models the log holds for records still waiting (a record names its model by
# version, :data:`~.record.Entry`): the one served, and those before the last reloads while
# records they answered wait; a replaced model is let go once none does.
MODELS = 4


class PredictionLogError(NewsapiError):
    """The prediction log cannot start; the message says why and what to install."""


class PredictionLog:
    """Queues answered texts without waiting and writes them as Parquet files."""

    def __init__(self, settings: PredictionLogSettings, metrics: Metrics) -> None:
        if settings.prediction_log_dir is None:
            raise ValueError("the prediction log needs NEWSAPI_PREDICTION_LOG_DIR")
        self.folder: Path = settings.prediction_log_dir
        self.sample = settings.prediction_log_sample
        self.keep_text = settings.prediction_log_text
        self.bytes_limit = settings.prediction_log_bytes
        self.file_bytes = settings.prediction_log_file_bytes
        self.file_seconds = settings.prediction_log_file_seconds
        self.queue_bytes = settings.prediction_log_queue_bytes
        self.metrics = metrics
        self.windows = Windows(metrics, settings.prediction_log_window)
        self.recent = Recent()  # the held records, for feedback
        # version -> (predictor, target names) of the models logged, oldest first: the last
        # one, and those older with records waiting (at most MODELS in all)
        self._models: dict[str, tuple[Predictor, Sequence[str]]] = {}
        self._waiting: dict[str, int] = {}  # version -> its records queued (texts)
        self._queue: queue.SimpleQueue[Entry | Call | None] = queue.SimpleQueue()
        self._queued = 0  # bytes waiting: the bound is checked against it
        self._lock = threading.Lock()
        self._wake = threading.Event()  # set by submit over _wake_bytes, and by stop
        self._wake_bytes = self.queue_bytes // 4
        self._thread: threading.Thread | None = None
        self._dropped = metrics.prediction_log_dropped.labels("queue")
        self.faults = FaultLog(
            log, "prediction log", "those records are dropped (counted in "
            "newsapi_prediction_log_dropped), and later faults of this kind only counted",
            metrics.prediction_log_faults,
        )  # fmt: skip
        self._sequence = 0
        self._start = ""
        self._deadline = float("inf")  # set by stop(): records queued after it are dropped

    @property
    def queued_bytes(self) -> int:
        """Bytes of records waiting for the writer's thread (as :meth:`submit` counts them)."""
        return self._queued

    # -- the request path --------------------------------------------------------------------
    def submit(
        self,
        endpoint: str,
        request_id: str,
        model_version: str,
        predictor: Predictor,
        target_names: Sequence[str],
        texts: Sequence[str],
        categories: Sequence[str],
        keys: Sequence[bytes] | None = None,
        trace_id: str | None = None,
        figures: Sequence[Figures | None] | None = None,
    ) -> None:
        """Log the answers ``categories`` of ``texts`` (``keys``: their cache keys, when the
        caller has them; else the writer computes them; ``figures``: each text's
        :data:`~newsapi.serving.predictor.Figures` when the lean path computed them with its
        answer, None for a text the writer measures), without waiting; over the queue's
        bound the call's records are dropped and counted."""
        if len(texts) == 1:
            self.submit_one(endpoint, request_id, model_version, predictor, target_names,
                            texts[0], categories[0], None if keys is None else keys[0],
                            None if figures is None else figures[0], trace_id)  # fmt: skip
            return
        if trace_id is None:  # the request's, when traces are on (:mod:`newsapi.serving.tracing`)
            trace_id = TRACE_ID.get()
        chosen: list[int] | None = None
        count = len(texts)
        if self.sample < 1.0:
            draw, sample = random.random, self.sample
            chosen = [i for i in range(len(texts)) if draw() < sample]
            if not chosen:
                return
            count = len(chosen)
        size = CALL_BYTES + len(texts) * ENTRY_BYTES + sum(map(len, texts))
        if figures is not None:
            size += len(texts) * FIGURES_BYTES
        self._know(model_version, predictor, target_names)
        call = (time.time(), endpoint, request_id, model_version, texts, categories, keys,
                figures, None, None, trace_id, size, chosen)  # fmt: skip
        self._put(call, size, count)

    def submit_one(
        self,
        endpoint: str,
        request_id: str,
        model_version: str,
        predictor: Predictor,
        target_names: Sequence[str],
        text: str,
        category: str,
        key: bytes | None = None,
        figures: Figures | None = None,
        trace_id: str | None = None,
    ) -> None:
        """:meth:`submit` of one text, the usual request: no list made to hand it over."""
        if self.sample < 1.0 and random.random() >= self.sample:
            return
        if trace_id is None:
            trace_id = TRACE_ID.get()
        size = ENTRY_BYTES + len(text) + (0 if figures is None else FIGURES_BYTES)
        self._know(model_version, predictor, target_names)
        row = tokens = unknown = None
        if figures is not None:
            row, tokens, unknown = figures
        entry = (time.time(), endpoint, request_id, model_version, text, category, key, row,
                 tokens, unknown, trace_id, size)  # fmt: skip
        self._put(entry, size, 1)

    def _know(self, version: str, predictor: Predictor, target_names: Sequence[str]) -> None:
        """Remember the model of ``version`` for the writer, unless it is known already (a
        reload of the same file replaces the predictor by an equal one): the models before
        it are let go once no record of theirs waits, and the oldest beyond :data:`MODELS`
        at once."""
        known = self._models.get(version)
        if known is not None and known[0] is predictor:
            return
        with self._lock:
            models = self._models
            models.pop(version, None)
            models[version] = (predictor, tuple(target_names))
            for old in [old for old in models if old != version and old not in self._waiting]:
                del models[old]
            while len(models) > MODELS:
                del models[next(iter(models))]

    def _put(self, item: Entry | Call, size: int, count: int) -> None:
        """Queue ``item`` (``count`` texts, ``size`` bytes), or drop and count it over the
        queue's bound."""
        with self._lock:
            if self._queued + size > self.queue_bytes:
                self._dropped.inc(count)
                return
            self._queued += size
            version = item[VERSION]
            self._waiting[version] = self._waiting.get(version, 0) + count
            wake = self._queued > self._wake_bytes
        self._queue.put(item)
        if wake:
            self._wake.set()

    # -- the writer's thread -----------------------------------------------------------------
    def start(self) -> None:
        """Start the writer's thread; pyarrow is imported here, not at the first write (an
        import holding the GIL in the middle of the traffic); without it, one clear error."""
        try:
            import pyarrow.parquet  # noqa: F401
        except ImportError as exc:
            raise PredictionLogError(
                "NEWSAPI_PREDICTION_LOG_DIR is set but pyarrow is not installed: "
                "pip install 'newsapi[scoring]', or unset it"
            ) from exc
        self._start = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        self._thread = threading.Thread(target=self._loop, name="prediction-log", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Write what is queued and held, then stop; records still waiting after ``timeout``
        seconds are dropped (counted)."""
        if self._thread is None:
            return
        self._deadline = time.monotonic() + timeout
        self._queue.put(None)
        self._wake.set()
        self._thread.join(timeout)
        self._thread = None

    def _loop(self) -> None:
        held: list[Any] = []  # the next file's records, a pyarrow record batch per group
        held_bytes, first = 0, 0.0
        stopping = False
        items: list[Entry | Call] = []
        pause = POLL
        while not stopping:
            if len(items) < DRAIN:  # else more are waiting: no pause
                pause = POLL if items else min(2 * pause, IDLE_POLL)
                wait = pause
                if held:  # awake when the held records' file is due, not up to IDLE_POLL later
                    wait = min(pause, max(0.0, first + self.file_seconds - time.monotonic()))
                self._wake.wait(wait)
                self._wake.clear()
            items = []
            try:
                while len(items) < DRAIN:
                    item = self._queue.get_nowait()
                    if item is None:
                        stopping = True
                        break
                    items.append(item)
            except queue.Empty:
                pass
            if time.monotonic() > self._deadline:  # stop() has waited long enough
                for item in items:
                    self._drop("stop", item)
                items = []
            if items and not held:
                first = time.monotonic()
            for columns in self._measured(items):
                self.windows.add(columns)
                batch = as_batch(columns)
                held.append(batch)
                self.recent.add(batch)
                kept = sum(map(len, filter(None, columns["text"])))
                held_bytes += RECORD_BYTES * len(columns["time"]) + kept
            due = held and time.monotonic() - first >= self.file_seconds
            if held and (stopping or due or held_bytes >= self.file_bytes):
                self._write(held)
                self.recent.written()
                held, held_bytes = [], 0
        self._drain_after_stop()

    def _drain_after_stop(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not None:
                self._drop("stop", item)

    def _drop(self, reason: str, item: Entry | Call) -> None:
        if len(item) == ENTRY_FIELDS:
            count = 1
        else:
            chosen = item[CHOSEN]
            count = len(item[TEXT]) if chosen is None else len(chosen)
        self._release(item[SIZE], item[VERSION], count)
        self.metrics.prediction_log_dropped.labels(reason).inc(count)

    def _release(self, size: int, version: str, count: int) -> None:
        """``count`` records of ``version`` (``size`` bytes) left the queue; a model replaced
        since is let go with its last one."""
        with self._lock:
            self._queued -= size
            left = self._waiting[version] - count
            if left:
                self._waiting[version] = left
                return
            del self._waiting[version]
            if version != next(reversed(self._models), None):
                self._models.pop(version, None)

    def _measured(self, items: list[Entry | Call]) -> Iterator[dict[str, Column]]:
        """The records of ``items`` as columns (one sequence per field of :class:`Record`, the
        time as microseconds since the epoch), one set of columns for each run of consecutive
        texts answered by the same model, measured at once: the figures the model computed
        with its answers are taken as they are, the others (cache hits, scikit-learn's
        answers) measured in one model call per :data:`MEASURE_CHUNK` texts. Columns, not
        Record objects: building one per text cost more than measuring it."""
        entries: Iterable[Entry] = items
        if set(map(len, items)) != {ENTRY_FIELDS}:  # calls of several texts among them
            entries = chain.from_iterable(
                (item,) if len(item) == ENTRY_FIELDS else entries_of(item) for item in items
            )
        for version, run in groupby(entries, itemgetter(VERSION)):
            group = list(run)
            served = self._models.get(version)
            self._release(sum(map(itemgetter(SIZE), group)), version, len(group))
            if served is None:  # MODELS reloads or more while these records waited
                self.faults.report("model", "model %s is no longer known (in %s)",
                                   version, self.folder)  # fmt: skip
                self.metrics.prediction_log_dropped.labels("fault").inc(len(group))
                continue
            try:
                columns = columns_of(group, *served, self.keep_text, MEASURE_CHUNK)
            except Exception as exc:  # a model the measures trip on: the log, not serving
                self.faults.report("measure", "%s (in %s)", exc, self.folder)
                self.metrics.prediction_log_dropped.labels("fault").inc(len(group))
                continue
            yield columns

    def _write(self, batches: list[Any]) -> None:
        import pyarrow as pa

        self._sequence += 1
        name = file_name(self._start, os.getpid(), self._sequence)
        table = pa.Table.from_batches(batches, schema=schema())  # no copy
        try:
            write_table(self.folder, name, table)
        except OSError as exc:
            self.faults.report("write", "%s (in %s)", exc, self.folder)
            self.metrics.prediction_log_dropped.labels("fault").inc(table.num_rows)
            return
        self.metrics.prediction_log_records.inc(table.num_rows)
        try:
            self.metrics.prediction_log_bytes.set(trim(self.folder, self.bytes_limit))
        except OSError as exc:
            self.faults.report("trim", "%s (in %s)", exc, self.folder)
