"""The disk tier: a ``joblib.Memory`` store shared by every worker, keyed by entry digests.

Entries are written with the store backend's ``dump_item`` rather than ``Memory.call``:
half the CPU time per write (the writer competes with the event loop for the GIL), and an
entry is its answer alone, ~28 bytes, with no metadata that could hold the text.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import joblib

from newsapi.serving.faults import FaultLog
from newsapi.serving.metrics import Metrics

log = logging.getLogger("newsapi.serving.cache")

Entry = tuple[bytes, str]  # (entry key, category)
# Where entries live in the store: <location>/joblib/newsapi/predictions/<32 hex digits>/
FOLDER = ["newsapi", "predictions"]
# What one entry costs on disk: a folder and an ``output.pkl`` of ~28 bytes, i.e. one 4 KiB
# block each on ext4 and most filesystems. The byte limit is applied to this footprint (what
# ``du`` counts), not only to the files' sizes (what joblib counts): both are bounded.
ENTRY_DISK_BYTES = 8192
# Two workers clearing at once each find folders the other has just removed; a clear looks
# again at what is left this many times before it reports a fault.
CLEAR_ATTEMPTS = 5
# The trimmer: a child process that trims the store each time it reads a line, and answers
# with one line. Started once, so that a trim costs the walk of the store, not a start-up of
# Python and joblib (~0.6 s here).
TRIMMER = """
import sys, joblib
memory = joblib.Memory(sys.argv[1], verbose=0)
limit = int(sys.argv[2])
for line in sys.stdin:
    try:
        memory.reduce_size(bytes_limit=limit, items_limit=limit // int(sys.argv[3]))
    except Exception as exc:
        print("failed", repr(exc).replace("\\n", " "), flush=True)
    else:
        print("ok", flush=True)
"""


class DiskTier:
    """The shared joblib.Memory store, written and read through its store backend (an entry
    is one pickled category under its key: no function, no arguments, no metadata). Every
    method is safe to call from any thread.

    Faults (a folder deleted, unwritable or read-only, corrupt entries) degrade to "not
    cached": each is counted and logged once per kind, and never raised.
    """

    def __init__(self, location: Path, bytes_limit: int, metrics: Metrics) -> None:
        self.location = Path(location)
        self.bytes_limit = bytes_limit
        self.faults = FaultLog(log, "disk cache", "serving without it", metrics.cache_faults)
        self._lock = threading.Lock()
        self._trimmer: subprocess.Popen[str] | None = None
        try:
            self.memory = joblib.Memory(str(self.location), verbose=0)
        except OSError as exc:
            # An unusable folder must not stop the service: without a store every lookup
            # misses and every write is counted as refused.
            self.faults.report("unavailable", "cannot use %s (%r)", self.location, exc)
            self.memory = joblib.Memory(None, verbose=0)
        self._store: Any = self.memory.store_backend

    def get_many(self, keys: Sequence[bytes]) -> list[str | None]:
        """The stored category of each key, or None where there is none (or it is unusable)."""
        found: list[str | None] = []
        store = self._store
        for key in keys:
            item = [*FOLDER, key.hex()]
            value: object = None
            try:
                if store is not None and store.contains_item(item):
                    value = store.load_item(item, verbose=0)
            except Exception as exc:  # a corrupt or vanished entry is a miss, never an error
                self.faults.report("read", "%r", exc)
                self._forget(item)
            if value is not None and not isinstance(value, str):
                self.faults.report("corrupt", "entry holds %s, not a category", type(value))
                self._forget(item)
                value = None
            found.append(value if isinstance(value, str) else None)
        return found

    def _forget(self, item: list[str]) -> None:
        # already reported as a read fault; a miss either way
        with contextlib.suppress(Exception):
            self._store.clear_item(item)

    def put_many(self, entries: Sequence[Entry]) -> bool:
        """Store ``entries``; False (counted, logged once) when the disk refused them."""
        if not entries:
            return True
        store = self._store
        if store is None:
            self.faults.report("write", "no usable folder at %s", self.location)
            return False
        with self._lock:
            try:
                for key, category in entries:
                    store.dump_item([*FOLDER, key.hex()], category, verbose=0)
                # joblib turns write errors into warnings; looking for one entry tells the truth
                stored = bool(store.contains_item([*FOLDER, entries[-1][0].hex()]))
            except Exception as exc:
                self.faults.report("write", "%r", exc)
                return False
        if not stored:
            self.faults.report("write", "entries under %s were not persisted", self.location)
        return stored

    def reduce(self) -> None:
        """Trim the store to ``bytes_limit``, least recently used first (blocking).

        joblib's ``reduce_size`` walks and stats every entry: tens of milliseconds to seconds of
        Python work for a full store. It runs in a child process, so that it takes no GIL
        time from the event loop; the calling thread just waits for its answer.
        """
        if self.memory.location is None:
            return
        try:
            trimmer = self._trimmer
            if trimmer is None or trimmer.poll() is not None:
                trimmer = self._trimmer = subprocess.Popen(
                    [sys.executable, "-c", TRIMMER, str(self.location), str(self.bytes_limit),
                     str(ENTRY_DISK_BYTES)],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                    text=True,
                )  # fmt: skip
            assert trimmer.stdin is not None and trimmer.stdout is not None  # noqa: PT018
            trimmer.stdin.write("trim\n")
            trimmer.stdin.flush()
            answer = trimmer.stdout.readline().strip()
        except OSError as exc:
            self.faults.report("reduce", "%r", exc)
            return
        if answer != "ok":
            self.faults.report("reduce", "%s", answer or "the trimming process ended")

    def close(self) -> None:
        """Stop the trimming process (it ends when its input closes)."""
        trimmer, self._trimmer = self._trimmer, None
        if trimmer is None:
            return
        with contextlib.suppress(OSError):
            trimmer.stdin.close()  # type: ignore[union-attr]
        try:
            trimmer.wait(timeout=5)
        except subprocess.TimeoutExpired:
            trimmer.kill()
            trimmer.wait()

    def clear(self) -> None:
        """Remove every entry (the caller tells the other workers: see :mod:`.signals`)."""
        with self._lock:
            try:
                self._remove_entries()
                self.location.mkdir(parents=True, exist_ok=True)
            except Exception as exc:
                self.faults.report("clear", "%r", exc)

    def _remove_entries(self) -> None:
        """joblib's clear, where a folder already gone counts as removed: another worker
        clearing at the same time removes some of the folders this one lists (joblib then
        raises FileNotFoundError); what is left is looked at again."""
        for attempt in range(CLEAR_ATTEMPTS):
            try:
                self.memory.clear(warn=False)
                return
            except FileNotFoundError:
                if not Path(self._store.location).exists():
                    return  # the whole store is gone: nothing left to remove
                if attempt == CLEAR_ATTEMPTS - 1:
                    raise
