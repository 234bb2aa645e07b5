"""The prediction cache: a bounded in-process LRU in front of a shared ``joblib.Memory`` on disk.

Keys are ``(model_version, text)``, so a retrained model never meets an old answer. The disk
tier is shared by every worker and survives restarts; it is written behind the response by a
background thread that may use at most ``write_budget`` of one core (what it cannot keep up
with is dropped and counted, never waited for). Disk faults degrade to "not cached": they are
counted and logged once, and never fail a request.
"""

from __future__ import annotations

import logging
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

import joblib

from newsapi.metrics import Metrics

log = logging.getLogger(__name__)

Entry = tuple[str, str]  # (text, category)
TRIM = (
    "import sys, joblib; "
    "joblib.Memory(sys.argv[1], verbose=0).reduce_size(bytes_limit=int(sys.argv[2]))"
)
# Entries written in one go by the writer: short enough that the event loop never waits long
# for the GIL (a joblib.Memory write is ~0.4 ms of mostly Python work).
WRITE_SLICE = 8


def remember(model_version: str, text: str, category: str | None) -> str | None:
    """The function whose calls joblib.Memory stores: it answers what it is handed.

    ``category`` is ignored in the cache key, so an entry is looked up by
    ``(model_version, text)`` and holds the category computed for them.
    """
    return category


class MemoryTier:
    """A bounded least-recently-used mapping ``(model_version, text) -> category``.

    It holds the answers of one model version, the one serving (:meth:`use`); answers of any
    other version are neither kept nor given. Keys are the texts themselves, plain strings,
    which Python's garbage collector does not have to track.
    """

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self.version = ""
        self._data: OrderedDict[str, str] = OrderedDict()

    def get(self, version: str, text: str) -> str | None:
        if version != self.version:
            return None
        value = self._data.get(text)
        if value is not None:
            self._data.move_to_end(text)
        return value

    def get_many(self, version: str, texts: list[str]) -> list[str | None]:
        """:meth:`get` for many texts at C speed (``map``), the hits made most recent."""
        if version != self.version:
            return [None] * len(texts)
        found = list(map(self._data.get, texts))
        move = self._data.move_to_end
        for text, value in zip(texts, found, strict=True):
            if value is not None:
                move(text)
        return found

    def put_many(self, version: str, entries: dict[str, str]) -> None:
        """Remember ``{text: category}`` answers of ``version`` (ignored for another
        version: e.g. a batch that finished after a reload, whose model is gone)."""
        if self.max_entries == 0 or version != self.version:
            return
        self._data.update(entries)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def use(self, version: str) -> None:
        """Serve ``version`` from now on, forgetting the answers of the previous one."""
        if version != self.version:
            self.version = version
            self._data = OrderedDict()

    def clear(self) -> None:
        self._data = OrderedDict()

    def __len__(self) -> int:
        return len(self._data)


class FaultLog:
    """Counts a kind of fault every time and logs it only the first time (until reset)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self._seen: set[str] = set()

    def report(self, kind: str, message: str, *args: object) -> None:
        self.metrics.cache_faults.labels(kind).inc()
        if kind not in self._seen:
            self._seen.add(kind)
            log.warning("disk cache fault (%s): " + message + "; serving without it", kind, *args)


class DiskTier:
    """The shared joblib.Memory tier. Every method is safe to call from any thread."""

    GENERATION_FILE = ".generation"

    def __init__(self, location: Path, bytes_limit: int, metrics: Metrics) -> None:
        self.location = Path(location)
        self.bytes_limit = bytes_limit
        self.faults = FaultLog(metrics)
        self._lock = threading.Lock()
        try:
            self.memory = joblib.Memory(str(self.location), verbose=0)
        except OSError as exc:
            # An unusable folder must not stop the service: a location-less Memory stores
            # nothing, so every lookup misses and every write is counted as refused.
            self.faults.report("unavailable", "cannot use %s (%r)", self.location, exc)
            self.memory = joblib.Memory(None, verbose=0)
        self._remember = self.memory.cache(remember, ignore=["category"])
        self._register()

    def _register(self) -> None:
        """Store the cached function's code now: joblib does it on the first lookup, which
        then misses whatever is on disk (and, with another code, wipes the store)."""
        try:
            self._remember.check_call_in_cache("", "", None)
        except Exception as exc:
            self.faults.report("unavailable", "cannot use %s (%r)", self.location, exc)

    def get_many(self, version: str, texts: Sequence[str]) -> list[str | None]:
        """The stored category of each text, or None where there is none (or it is unusable)."""
        found: list[str | None] = []
        for text in texts:
            value: object = None
            try:
                if self._remember.check_call_in_cache(version, text, None):
                    value = self._remember.call_and_shelve(version, text, None).get()
            except Exception as exc:  # a corrupt or vanished entry is a miss, never an error
                self.faults.report("read", "%r", exc)
                self._forget(version, text)
            if value is not None and not isinstance(value, str):
                self.faults.report("corrupt", "entry holds %s, not a category", type(value))
                self._forget(version, text)
                value = None
            found.append(value if isinstance(value, str) else None)
        return found

    def _forget(self, version: str, text: str) -> None:
        try:
            self._remember.call_and_shelve(version, text, None).clear()
        except Exception as exc:
            log.debug("could not remove a bad cache entry: %r", exc)

    def put_many(self, version: str, entries: Sequence[Entry]) -> bool:
        """Store ``entries``; False (counted, logged once) when the disk refused them."""
        if not entries:
            return True
        with self._lock:
            try:
                for text, category in entries:
                    self._remember.call(version, text, category)
                # joblib turns write errors into warnings; reading one entry back tells the truth
                text = entries[-1][0]
                stored = bool(self._remember.check_call_in_cache(version, text, None))
            except Exception as exc:
                self.faults.report("write", "%r", exc)
                return False
        if not stored:
            self.faults.report("write", "entries under %s were not persisted", self.location)
        return stored

    def reduce(self) -> None:
        """Trim the store to ``bytes_limit``, least recently used first.

        joblib's ``reduce_size`` walks and stats every entry: tens of milliseconds to seconds of
        Python work for a full store. It runs in a child process, so that it takes no GIL
        time from the event loop; this thread just waits for it.
        """
        if self.memory.location is None:
            return
        try:
            subprocess.run(
                [sys.executable, "-c", TRIM, str(self.location), str(self.bytes_limit)],
                capture_output=True, check=True, timeout=600,
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError) as exc:
            self.faults.report("reduce", "%r", exc)

    def clear(self) -> None:
        """Remove every entry and tell the other workers (see :meth:`generation`)."""
        with self._lock:
            try:
                self.memory.clear(warn=False)
                self.location.mkdir(parents=True, exist_ok=True)
                (self.location / self.GENERATION_FILE).write_text(uuid.uuid4().hex)
                self._register()
            except Exception as exc:
                self.faults.report("clear", "%r", exc)

    def generation(self) -> str | None:
        """A token that changes whenever any worker clears the store."""
        try:
            return (self.location / self.GENERATION_FILE).read_text()
        except OSError:
            return None


class PredictionCache:
    """The two tiers and the background writer that fills the disk tier."""

    def __init__(
        self,
        location: Path,
        *,
        bytes_limit: int,
        memory_entries: int,
        metrics: Metrics,
        write_budget: float = 0.1,
        write_queue: int = 4096,
        reduce_interval: float = 30.0,
    ) -> None:
        self.metrics = metrics
        self.memory = MemoryTier(memory_entries)
        self.disk = DiskTier(location, bytes_limit, metrics)
        self.write_budget = write_budget
        self.reduce_interval = reduce_interval
        # unbounded queue, bounded by entries: ``_queued`` counts the entries waiting
        self._queue: queue.Queue[tuple[str, list[Entry]] | None] = queue.Queue()
        self._queue_limit = write_queue
        self._queued = 0
        self._queued_lock = threading.Lock()
        self._epoch = 0  # bumped by every clear
        self._thread: threading.Thread | None = None
        self._on_foreign_clear: Callable[[], None] | None = None
        self._generation = self.disk.generation()

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, on_foreign_clear: Callable[[], None] | None = None) -> None:
        """Start the writer; ``on_foreign_clear`` is called (from the writer thread) when
        another worker clears the disk tier, so that this worker drops its memory tier too."""
        self._on_foreign_clear = on_foreign_clear
        self._thread = threading.Thread(target=self._write_loop, name="cache-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the writer; entries still waiting are dropped (it is a cache) and counted."""
        if self._thread is None:
            return
        self._drain()
        self._queue.put_nowait(None)
        self._thread.join(timeout)
        self._thread = None

    # -- request path (event loop) -----------------------------------------------------------
    def write_behind(self, version: str, entries: list[Entry]) -> None:
        """Queue ``entries`` for the disk tier without waiting; full queue: drop and count."""
        if not entries:
            return
        with self._queued_lock:
            if self._queued + len(entries) > self._queue_limit:
                self.metrics.cache_writes_dropped.inc(len(entries))
                return
            self._queued += len(entries)
        self._queue.put_nowait((version, entries))

    def _done(self, count: int) -> None:
        with self._queued_lock:
            self._queued -= count

    def clear_disk(self) -> None:
        """Empty the disk tier and the writes waiting for it (blocking: call from a thread).

        The memory tier belongs to the event loop; the caller clears it there.
        """
        self._epoch += 1
        self._drain()
        self.disk.clear()
        self._generation = self.disk.generation()

    # -- writer thread -----------------------------------------------------------------------
    def _drain(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is None:  # keep the stop signal for the writer
                self._queue.put_nowait(None)
                return
            self._done(len(item[1]))
            self.metrics.cache_writes_dropped.inc(len(item[1]))

    def _write_loop(self) -> None:
        last_reduce = time.monotonic()
        while True:
            try:
                item = self._queue.get(timeout=1.0)
            except queue.Empty:  # idle: a chance to trim and to notice another worker's clear
                item = ("", [])
            if item is None:
                break
            version, entries = item
            self._done(len(entries))
            epoch = self._epoch
            for start in range(0, len(entries), WRITE_SLICE):
                if epoch != self._epoch:  # cleared meanwhile: these answers go too
                    self.metrics.cache_writes_dropped.inc(len(entries) - start)
                    break
                began = time.perf_counter()
                part = entries[start : start + WRITE_SLICE]
                if self.disk.put_many(version, part):
                    self.metrics.cache_writes.inc(len(part))
                self._rest(time.perf_counter() - began)
            if time.monotonic() - last_reduce >= self.reduce_interval:
                self.disk.reduce()
                last_reduce = time.monotonic()
            self._check_generation()

    def _rest(self, busy: float) -> None:
        # Stay within the write budget: this thread competes with the event loop for the
        # GIL, so after working for t seconds it rests for t * (1 / budget - 1).
        time.sleep(busy * (1.0 / self.write_budget - 1.0))

    def _check_generation(self) -> None:
        generation = self.disk.generation()
        if generation != self._generation:
            self._generation = generation
            if self._on_foreign_clear is not None:
                self._on_foreign_clear()
