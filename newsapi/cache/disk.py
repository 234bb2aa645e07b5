"""The disk tier: a ``joblib.Memory`` store shared by every worker, keyed by entry digests."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import joblib

from newsapi.cache.faults import FaultLog
from newsapi.metrics import Metrics

Entry = tuple[bytes, str]  # (entry key, category)
# What one entry costs on disk: joblib's metadata.json (which holds the call's arguments: the
# 32-hex-digit key, never the text) and output.pkl. Measured at 150-170 bytes of files;
# tests/test_cache_disk.py checks the bound.
ENTRY_DISK_BYTES = 256
# The trimmer: a child process that trims the store each time it reads a line, and answers
# with one line. Started once, so that a trim costs the walk of the store, not a start-up of
# Python and joblib (~0.6 s here).
TRIMMER = """
import sys, joblib
memory = joblib.Memory(sys.argv[1], verbose=0)
for line in sys.stdin:
    try:
        memory.reduce_size(bytes_limit=int(sys.argv[2]))
    except Exception as exc:
        print("failed", repr(exc).replace("\\n", " "), flush=True)
    else:
        print("ok", flush=True)
"""


def remember(key: str, category: str | None) -> str | None:
    """The function whose calls joblib.Memory stores: it answers what it is handed.

    ``category`` is ignored in joblib's key, so an entry is looked up by ``key`` (the hex
    digest of model version and text) and holds the category computed for it.
    """
    return category


class DiskTier:
    """The shared joblib.Memory tier. Every method is safe to call from any thread.

    Faults (a folder deleted, unwritable or read-only, corrupt entries) degrade to "not
    cached": each is counted and logged once per kind, and never raised.
    """

    def __init__(self, location: Path, bytes_limit: int, metrics: Metrics) -> None:
        self.location = Path(location)
        self.bytes_limit = bytes_limit
        self.faults = FaultLog(metrics)
        self._lock = threading.Lock()
        self._trimmer: subprocess.Popen[str] | None = None
        try:
            self.memory = joblib.Memory(str(self.location), verbose=0)
        except OSError as exc:
            # An unusable folder must not stop the service: a location-less Memory stores
            # nothing, so every lookup misses and every write is counted as refused.
            self.faults.report("unavailable", "cannot use %s (%r)", self.location, exc)
            self.memory = joblib.Memory(None, verbose=0)
        self._remember = self.memory.cache(remember, ignore=["category"])
        self.register()

    def register(self) -> None:
        """Store the cached function's code now: joblib does it on the first lookup, which
        then misses whatever is on disk (and, with another code, wipes the store)."""
        try:
            self._remember.check_call_in_cache("", None)
        except Exception as exc:
            self.faults.report("unavailable", "cannot use %s (%r)", self.location, exc)

    def get_many(self, keys: Sequence[bytes]) -> list[str | None]:
        """The stored category of each key, or None where there is none (or it is unusable)."""
        found: list[str | None] = []
        for key in keys:
            name = key.hex()
            value: object = None
            try:
                if self._remember.check_call_in_cache(name, None):
                    value = self._remember.call_and_shelve(name, None).get()
            except Exception as exc:  # a corrupt or vanished entry is a miss, never an error
                self.faults.report("read", "%r", exc)
                self._forget(name)
            if value is not None and not isinstance(value, str):
                self.faults.report("corrupt", "entry holds %s, not a category", type(value))
                self._forget(name)
                value = None
            found.append(value if isinstance(value, str) else None)
        return found

    def _forget(self, name: str) -> None:
        # already reported as a read fault; a miss either way
        with contextlib.suppress(Exception):
            self._remember.call_and_shelve(name, None).clear()

    def put_many(self, entries: Sequence[Entry]) -> bool:
        """Store ``entries``; False (counted, logged once) when the disk refused them."""
        if not entries:
            return True
        with self._lock:
            try:
                for key, category in entries:
                    self._remember.call(key.hex(), category)
                # joblib turns write errors into warnings; reading one entry back tells the truth
                stored = bool(self._remember.check_call_in_cache(entries[-1][0].hex(), None))
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
                    [sys.executable, "-c", TRIMMER, str(self.location), str(self.bytes_limit)],
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
                self.memory.clear(warn=False)
                self.location.mkdir(parents=True, exist_ok=True)
                self.register()
            except Exception as exc:
                self.faults.report("clear", "%r", exc)
