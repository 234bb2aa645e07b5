"""Staging folders: where an entry (or a whole run) is written before it appears at once.

Every write into the store happens in a hidden folder ``models/.incoming-<pid>-<what>-*``
that is renamed into place or removed, so a run killed half-way leaves nothing a reader
lists; the next write removes the folders whose writing process is gone. A run stopped by a
signal that the command line turns into an interrupt (SIGINT, SIGTERM, SIGHUP) removes its
folder on the way out, and a second signal waits until the folder is gone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

INCOMING = ".incoming-"
#: the signals a clean-up defers: those that stop a command (see newsapi.cli.signals)
STOPS = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP})


@contextlib.contextmanager
def staging_folder(models: Path, what: str = "entry") -> Iterator[Path]:
    """A new private folder inside ``models`` for one write, removed on the way out
    (whatever was not renamed out of it first)."""
    models.mkdir(parents=True, exist_ok=True)
    sweep_abandoned(models)
    staging = Path(tempfile.mkdtemp(prefix=f"{INCOMING}{os.getpid()}-{what}-", dir=models))
    try:
        yield staging
    finally:
        with deferred_signals():
            shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold the signals that stop a command (:data:`STOPS`) until the block is done, so that
    a clean-up or a final rename is not cut short half-way; the first that came is then
    delivered to the handler that was there. The handlers are swapped rather than the
    signals blocked: a signal sent to the process reaches any thread that does not block it
    (pyarrow's, Dask's, a kernel client's), whose C handler still runs Python's in the main
    thread at once. In the main thread (where Python runs signal handlers); elsewhere the
    block simply runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    came: list[int] = []
    previous = {signum: signal.signal(signum, lambda n, _: came.append(n)) for signum in STOPS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            if handler is not None:  # None: one set outside Python, which cannot be put back
                signal.signal(signum, handler)
        if came:
            signal.raise_signal(came[0])


def discard(folder: Path, models: Path, name: str) -> None:
    """Remove ``folder`` from the store at once: renamed out of sight, then deleted."""
    trash = models / f"{INCOMING}{os.getpid()}-removed-{name}"
    folder.rename(trash)
    shutil.rmtree(trash, ignore_errors=True)


def sweep_abandoned(models: Path) -> None:
    """Remove staging folders whose writer is gone (killed half-way)."""
    for folder in models.glob(f"{INCOMING}*"):
        owner = folder.name.removeprefix(INCOMING).split("-")[0]
        if "-removed-" in folder.name or not owner.isdigit() or not _alive(int(owner)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive all the same
        pass
    return True
