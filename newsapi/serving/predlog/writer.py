"""The log writer: one per worker process, a background thread fed by columns bounded in bytes.

:meth:`PredictionLog.submit` runs on the request path: it draws the sample, takes the time
and appends, under a lock, references to what the request already holds (its request id,
the text's cache key, the category, the model's version, the figures the model computed
with the answer; the text itself only where the writer needs it) to the columns of the
records waiting (:class:`~newsapi.serving.predlog.record.Waiting`), or drops and counts the
record when they hold ``queue_bytes`` already; it never waits for the writer. The writer's
thread takes all of them at once, completes their columns
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
import random
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from itertools import repeat
from pathlib import Path
from typing import Any

from newsapi.errors import NewsapiError
from newsapi.serving.faults import FaultLog
from newsapi.serving.metrics import Metrics
from newsapi.serving.predictor import Figures, Predictor
from newsapi.serving.predlog.files import file_name, trim, write_table
from newsapi.serving.predlog.recent import Recent
from newsapi.serving.predlog.record import (
    RECORD_BYTES,
    Column,
    Waiting,
    as_batch,
    columns_of,
    schema,
)
from newsapi.serving.predlog.window import Windows
from newsapi.serving.tracing import TRACE_ID
from newsapi.settings import PredictionLogSettings

log = logging.getLogger("newsapi.serving.predlog")

# What a waiting record holds beside its text (kept only where the writer needs it): its
# place in each column, its time, its request id and its cache key; and its figures: a
# tuple, a row of decision values, two ints.
ENTRY_BYTES = 240
FIGURES_BYTES = 200
# Texts measured in one go (cache hits, scikit-learn's answers), then the thread lets go
# of the GIL: a thread holding it makes the event loop wait up to the switch interval.
MEASURE_CHUNK = 128
# The writer looks at what waits this often (seconds) instead of being woken by each record:
# each wake-up would take the GIL from the event loop for one record's measures (a thread
# switch per request); looking now and then takes the records of many requests at once. It
# is woken sooner when a quarter of the bound in bytes waits (large /predictions calls), so
# that a burst is not dropped while it sleeps. An idle writer looks less and less often,
# down to once every IDLE_POLL seconds.
POLL = 0.25
IDLE_POLL = 1.0


class PredictionLogError(NewsapiError):
    """The prediction log cannot start; the message says why and what to install."""


class PredictionLog:
    """Takes answered texts without waiting for them and writes them as Parquet files."""

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
        self._waiting = Waiting()  # what the writer's thread has not taken yet
        self._stopping = False  # set by stop(): the writer takes what waits a last time
        self._lock = threading.Lock()  # over _waiting and _stopping
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
        self._deadline = float("inf")  # set by stop(): records still waiting then are dropped

    @property
    def queued_bytes(self) -> int:
        """Bytes of records waiting for the writer's thread (as :meth:`submit` counts them)."""
        return self._waiting.bytes

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
        answer, None for a text the writer measures), without waiting; over the bound in
        bytes the call's records are dropped and counted."""
        if len(texts) == 1:
            self.submit_one(endpoint, request_id, model_version, predictor, target_names,
                            texts[0], categories[0], None if keys is None else keys[0],
                            None if figures is None else figures[0], trace_id)  # fmt: skip
            return
        if trace_id is None:  # the request's, when traces are on (:mod:`newsapi.serving.tracing`)
            trace_id = TRACE_ID.get()
        if self.sample < 1.0:
            draw, sample = random.random, self.sample
            chosen = [i for i in range(len(texts)) if draw() < sample]
            if not chosen:
                return
            texts = [texts[i] for i in chosen]
            categories = [categories[i] for i in chosen]
            keys = None if keys is None else [keys[i] for i in chosen]
            figures = None if figures is None else [figures[i] for i in chosen]
        count = len(texts)
        # the texts stay only where the writer needs them: kept, measured or keyed
        keep = self.keep_text or keys is None or figures is None or None in figures
        size = count * ENTRY_BYTES + (sum(map(len, texts)) if keep else 0)
        if figures is not None:
            size += count * FIGURES_BYTES
        now = time.time()
        with self._lock:
            waiting = self._waiting
            if waiting.bytes + size > self.queue_bytes:
                dropped = True
            else:
                dropped = False
                waiting.bytes += size
                self._know(waiting, model_version, predictor, target_names)
                waiting.when.extend(repeat(now, count))
                waiting.endpoint.extend(repeat(endpoint, count))
                waiting.request_id.extend(repeat(request_id, count))
                waiting.version.extend(repeat(model_version, count))
                waiting.text.extend(texts if keep else repeat(None, count))
                waiting.chars.extend(map(len, texts))
                waiting.category.extend(categories)
                waiting.key.extend(repeat(None, count) if keys is None else keys)
                waiting.figures.extend(repeat(None, count) if figures is None else figures)
                waiting.trace_id.extend(repeat(trace_id, count))
                wake = waiting.bytes > self._wake_bytes
        if dropped:
            self._dropped.inc(count)
        elif wake:
            self._wake.set()

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
        size = ENTRY_BYTES
        if self.keep_text or key is None or figures is None:
            size += len(text)
            kept: str | None = text
        else:
            kept = None
        if figures is not None:
            size += FIGURES_BYTES
        now = time.time()
        with self._lock:
            waiting = self._waiting
            if waiting.bytes + size > self.queue_bytes:
                dropped = True
            else:
                dropped = False
                waiting.bytes += size
                known = waiting.models.get(model_version)  # _know, without its call
                if known is None or known[0] is not predictor:
                    waiting.models[model_version] = (predictor, tuple(target_names))
                waiting.when.append(now)
                waiting.endpoint.append(endpoint)
                waiting.request_id.append(request_id)
                waiting.version.append(model_version)
                waiting.text.append(kept)
                waiting.chars.append(len(text))
                waiting.category.append(category)
                waiting.key.append(key)
                waiting.figures.append(figures)
                waiting.trace_id.append(trace_id)
                wake = waiting.bytes > self._wake_bytes
        if dropped:
            self._dropped.inc()
        elif wake:
            self._wake.set()

    @staticmethod
    def _know(
        waiting: Waiting, version: str, predictor: Predictor, target_names: Sequence[str]
    ) -> None:
        """Hold the model of ``version`` with the records it answered, unless it is held
        already (a reload of the same file replaces the predictor by an equal one: the last
        one is kept)."""
        known = waiting.models.get(version)
        if known is None or known[0] is not predictor:
            waiting.models[version] = (predictor, tuple(target_names))

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
        self._stopping, self._deadline = False, float("inf")  # a log stopped may start again
        self._thread = threading.Thread(target=self._loop, name="prediction-log", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Write what waits and what is held, then stop; records still waiting after
        ``timeout`` seconds are dropped (counted)."""
        if self._thread is None:
            return
        self._deadline = time.monotonic() + timeout
        with self._lock:
            self._stopping = True
        self._wake.set()
        self._thread.join(timeout)
        self._thread = None

    def _take(self) -> tuple[Waiting, bool]:
        """What waits (a new, empty :class:`Waiting` in its place), and whether stop() was
        called before it was taken."""
        with self._lock:
            taken, self._waiting = self._waiting, Waiting()
            return taken, self._stopping

    def _loop(self) -> None:
        held: list[Any] = []  # the next file's records, a pyarrow record batch per group
        held_bytes, first = 0, 0.0
        stopping = False
        pause = POLL
        while not stopping:
            wait = pause
            if held:  # awake when the held records' file is due, not up to IDLE_POLL later
                wait = min(pause, max(0.0, first + self.file_seconds - time.monotonic()))
            self._wake.wait(wait)
            self._wake.clear()
            taken, stopping = self._take()
            pause = POLL if len(taken) else min(2 * pause, IDLE_POLL)
            if len(taken) and time.monotonic() > self._deadline:  # stop() waited long enough
                self._drop("stop", taken)
                taken = Waiting()
            if len(taken) and not held:
                first = time.monotonic()
            for columns in self._measured(taken):
                self.windows.add(columns)
                batch = as_batch(columns)
                held.append(batch)
                self.recent.add(batch)
                kept = sum(map(len, filter(None, columns["text"])))
                held_bytes += RECORD_BYTES * len(columns["time"]) + kept
            del taken  # the models it held go now, not at the next take
            due = held and time.monotonic() - first >= self.file_seconds
            if held and (stopping or due or held_bytes >= self.file_bytes):
                self._write(held)
                self.recent.written()
                held, held_bytes = [], 0
        late, _ = self._take()  # handed over while the last ones were written
        if len(late):
            self._drop("stop", late)

    def _drop(self, reason: str, taken: Waiting) -> None:
        self.metrics.prediction_log_dropped.labels(reason).inc(len(taken))

    def _measured(self, taken: Waiting) -> Iterator[dict[str, Column]]:
        """The records of ``taken`` as columns (one sequence per field of :class:`Record`,
        the time as microseconds since the epoch), one set of columns for each run of
        consecutive texts answered by the same model, measured at once: the figures the
        model computed with its answers are taken as they are, the others (cache hits,
        scikit-learn's answers) measured in one model call per :data:`MEASURE_CHUNK` texts.
        Columns, not Record objects: building one per text cost more than measuring it."""
        for version, start, stop in taken.runs():
            served = taken.models[version]
            try:
                columns = columns_of(taken, start, stop, *served, self.keep_text, MEASURE_CHUNK)
            except Exception as exc:  # a model the measures trip on: the log, not serving
                self.faults.report("measure", "%s (in %s)", exc, self.folder)
                self.metrics.prediction_log_dropped.labels("fault").inc(stop - start)
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
