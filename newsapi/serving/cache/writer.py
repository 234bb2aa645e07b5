"""The disk writer: a background thread that fills the disk tier behind the responses.

It writes only once the worker has had no request in flight for a moment (5 ms by default,
``NEWSAPI_CACHE_WRITE_QUIET_MS``; :mod:`newsapi.serving.activity`; at least one slice every
:data:`LONGEST_WAIT` seconds whatever the traffic), so that its writes do not take the
GIL from requests (the event loop, scikit-learn's tokenising and joblib's writing are all
Python: they cannot run at once), and then uses at most ``write_budget`` of one core; under
steady load, answers wait in the queue, and what it cannot keep up with is dropped and
counted, never waited for. Its queue is bounded in bytes, and it trims the disk tier both on
a timer and whenever it has written a tenth of the tier's byte limit since the last trim, so
the folder stays near its limit between trims whatever the write rate.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable

from newsapi.serving.cache.disk import ENTRY_DISK_BYTES, DiskTier, Entry
from newsapi.serving.cache.signals import ClearSignal
from newsapi.serving.metrics import Metrics

# What one waiting entry costs: its slot in a queued list, a (key, category) tuple and a
# 16-byte key; the category is one of the model's shared strings. Measured with tracemalloc
# at ~110 bytes; tests/serving/cache/test_writer.py checks the bound.
QUEUE_ENTRY_BYTES = 160
# Entries written in one go: short enough that the event loop never waits long for the GIL
# (an entry's write is ~0.2-0.3 ms of mostly Python work, with system calls between).
WRITE_SLICE = 8
# The longest the writer waits for a pause in the traffic before it writes one slice anyway
# (8 entries, ~2 ms of GIL time: 0.04% of a core) and looks for another worker's clear.
LONGEST_WAIT = 5.0
# While the worker stays busy, the writer looks again after 1, 2, 4... times the quiet time
# (5 ms by default), at most this far apart: looking every 5 ms took the GIL from the event
# loop 200 times a second for nothing. Once a pause has begun, it looks when the pause would
# be long enough.
LONGEST_LOOK = 0.1
# Trim after writing this share of the byte limit (counted at ENTRY_DISK_BYTES an entry):
# the folder stays within ~1.1x its limit between trims.
TRIM_SHARE = 0.1


class DiskWriter:
    """Writes queued entries into ``disk`` from its own thread."""

    def __init__(
        self,
        disk: DiskTier,
        signal: ClearSignal,
        metrics: Metrics,
        *,
        write_budget: float,
        queue_bytes: int,
        reduce_interval: float,
    ) -> None:
        self.disk = disk
        self.signal = signal
        self.metrics = metrics
        self.write_budget = write_budget
        self.reduce_interval = reduce_interval
        self.queue_entries = max(1, queue_bytes // QUEUE_ENTRY_BYTES)
        self.trim_entries = max(1, int(disk.bytes_limit * TRIM_SHARE) // ENTRY_DISK_BYTES)
        self._queue: queue.Queue[list[Entry] | None] = queue.Queue()
        self._queued = 0  # entries waiting: the bound is checked against it
        self._queued_lock = threading.Lock()
        self._epoch = 0  # bumped by every clear
        self._written_since_trim = 0
        self._thread: threading.Thread | None = None
        self._on_foreign_clear: Callable[[], None] | None = None
        self._quiet: Callable[[], float] | None = None
        self._quiet_seconds = 0.0

    @property
    def max_bytes(self) -> int:
        """The most the entries waiting for the writer hold, in bytes."""
        return self.queue_entries * QUEUE_ENTRY_BYTES

    def start(
        self,
        on_foreign_clear: Callable[[], None] | None = None,
        quiet: Callable[[], float] | None = None,
        quiet_seconds: float = 0.0,
    ) -> None:
        """Start the thread; ``on_foreign_clear`` is called (from it) when another worker
        clears the disk tier; ``quiet()`` says for how many seconds the worker has had no
        request in flight, and the writer waits until it says ``quiet_seconds``."""
        self._on_foreign_clear = on_foreign_clear
        self._quiet = quiet
        self._quiet_seconds = quiet_seconds
        self._thread = threading.Thread(target=self._loop, name="cache-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread; entries still waiting are dropped (it is a cache) and counted."""
        if self._thread is None:
            return
        self.drop_waiting()
        self._queue.put_nowait(None)
        self._thread.join(timeout)
        self._thread = None

    def submit(self, entries: list[Entry]) -> None:
        """Queue ``entries`` without waiting; over the bound: drop and count them."""
        if not entries:
            return
        with self._queued_lock:
            if self._queued + len(entries) > self.queue_entries:
                self.metrics.cache_writes_dropped.inc(len(entries))
                return
            self._queued += len(entries)
        self._queue.put_nowait(entries)

    def drop_waiting(self) -> None:
        """Drop (and count) every entry waiting, and any slice being written (a clear)."""
        self._epoch += 1
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is None:  # keep the stop signal for the thread
                self._queue.put_nowait(None)
                return
            self._done(len(item))
            self.metrics.cache_writes_dropped.inc(len(item))

    def _done(self, count: int) -> None:
        with self._queued_lock:
            self._queued -= count

    def _loop(self) -> None:
        last_trim = time.monotonic()
        while True:
            try:
                item: list[Entry] | None = self._queue.get(timeout=1.0)
            except queue.Empty:  # idle: a chance to trim and to notice another worker's clear
                item = []
            if item is None:
                break
            self._done(len(item))
            self._write(item)
            due = time.monotonic() - last_trim >= self.reduce_interval
            if due or self._written_since_trim >= self.trim_entries:
                self.disk.reduce()
                self._written_since_trim = 0
                last_trim = time.monotonic()
            self._notice_foreign_clear()

    def _write(self, entries: list[Entry]) -> None:
        epoch = self._epoch
        for start in range(0, len(entries), WRITE_SLICE):
            self._wait_for_quiet(epoch)
            if epoch != self._epoch:  # cleared meanwhile: these answers go too
                self.metrics.cache_writes_dropped.inc(len(entries) - start)
                return
            began = time.perf_counter()
            part = entries[start : start + WRITE_SLICE]
            if self.disk.put_many(part):
                self.metrics.cache_writes.inc(len(part))
                self._written_since_trim += len(part)
            # Stay within the budget: after working t seconds, rest t * (1 / budget - 1).
            time.sleep((time.perf_counter() - began) * (1.0 / self.write_budget - 1.0))

    def _wait_for_quiet(self, epoch: int) -> None:
        """Sleep (holding no GIL) until the worker has had no request in flight for
        ``quiet_seconds`` (looking less often the longer it stays busy, see
        :data:`LONGEST_LOOK`), or the queue is cleared or stopped meanwhile, or
        :data:`LONGEST_WAIT` has passed: traffic that never pauses (or a client that holds
        a request open) delays the disk tier, it does not stop it, nor another worker's
        clear from reaching this one."""
        if self._quiet is None:
            return
        deadline = time.monotonic() + LONGEST_WAIT
        look = self._quiet_seconds
        while epoch == self._epoch:
            quiet_for = self._quiet()
            if quiet_for >= self._quiet_seconds:
                return
            if (now := time.monotonic()) >= deadline:
                self._notice_foreign_clear()
                return
            if quiet_for > 0:  # a pause has begun: look again when it would be long enough
                wait = self._quiet_seconds - quiet_for
            else:  # busy: look again later each time
                wait, look = look, min(2 * look, LONGEST_LOOK)
            time.sleep(min(wait, deadline - now))

    def _notice_foreign_clear(self) -> None:
        if self.signal.cleared_elsewhere() and self._on_foreign_clear is not None:
            self._on_foreign_clear()
