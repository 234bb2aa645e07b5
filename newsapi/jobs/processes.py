"""Every process a notebook run starts ends with the run: the kernel, and whatever the kernel
started (joblib's loky workers and resource trackers, a Dask LocalCluster's workers).

jupyter_client starts the kernel in a session of its own and, when it shuts the kernel down,
signals that session's process group; but a kernel stopped while it was starting is never shut
down, and one that dies first leaves its children to init: loky's workers then live on with
PPID 1 for minutes, holding the caller's stdout open. So a run marks its environment, which
every process it starts inherits (a process may leave its group or session, not easily its
environment), and on the way out, returned, raised or interrupted, ends every process that
carries the mark: SIGTERM, then SIGKILL for those still there after a grace period, which
lets the resource trackers clean up once the workers are gone. Reads ``/proc`` (Linux);
elsewhere only jupyter_client's own clean-up runs.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import secrets
import signal
import time
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

from newsapi.store.staging import deferred_signals

log = logging.getLogger(__name__)

#: the environment variable that marks the processes of one run
MARKER = "NEWSAPI_RUN_MARK"
#: seconds the processes of a run get to exit after SIGTERM, before SIGKILL
GRACE_SECONDS = 3.0
#: scans for processes started while the previous ones were being ended (a worker replaced)
ROUNDS = 3

P = ParamSpec("P")
R = TypeVar("R")

# the marks of the runs in progress in this process (see terminate_running)
_running_marks: list[str] = []


def ends_its_processes(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` in :func:`marked_processes`: whatever it starts ends before it returns
    or raises."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with marked_processes():
            return function(*args, **kwargs)

    return wrapper


@contextlib.contextmanager
def marked_processes() -> Iterator[str]:
    """Mark the environment of every process started inside; end them all on the way out
    (a stop signal that arrives meanwhile waits until they are gone). Yields the mark."""
    mark = f"{os.getpid()}-{secrets.token_hex(8)}"
    previous = os.environ.get(MARKER)
    os.environ[MARKER] = mark
    _running_marks.append(mark)
    try:
        yield mark
    finally:
        _running_marks.remove(mark)
        if previous is None:
            os.environ.pop(MARKER, None)
        else:
            os.environ[MARKER] = previous
        with deferred_signals():
            end_marked(mark)


def terminate_running() -> None:
    """Send SIGTERM to every process of the runs in progress, without waiting: what a stop
    signal's handler does first. jupyter_client's shutdown would otherwise interrupt the
    kernel's process group with SIGINT, and a worker still starting prints a traceback for it
    on the caller's terminal; SIGTERM ends it quietly. The run's own exit then waits for them
    (:func:`end_marked`)."""
    for mark in list(_running_marks):
        _send(marked(mark), signal.SIGTERM)


def marked(mark: str) -> list[int]:
    """The live processes (not this one) whose environment carries ``mark``."""
    needle = f"{MARKER}={mark}".encode()
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    found = []
    for name in names:
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as handle:
                environ = handle.read()
        except OSError:  # gone meanwhile, or another user's
            continue
        if needle in environ.split(b"\0") and _running(int(name)):
            found.append(int(name))
    return found


def end_marked(mark: str, grace: float = GRACE_SECONDS) -> list[int]:
    """End every process carrying ``mark``: SIGTERM, SIGKILL after ``grace`` seconds for those
    still running, and wait (``grace`` again at most) until they are gone. Returns the pids."""
    ended: list[int] = []
    for _ in range(ROUNDS):
        pids = marked(mark)
        if not pids:
            break
        _send(pids, signal.SIGTERM)
        left = _wait(pids, grace)
        if left:
            _send(left, signal.SIGKILL)
            left = _wait(left, grace)
        if left:
            log.warning("processes %s of a notebook run did not exit after SIGKILL", left)
        ended += pids
    if ended:
        log.info("ended %d leftover process(es) of a notebook run", len(ended))
    return ended


def _send(pids: list[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def _wait(pids: list[int], seconds: float) -> list[int]:
    """The pids still running after up to ``seconds`` (this process's children are reaped)."""
    deadline = time.monotonic() + seconds
    while True:
        for pid in pids:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
        left = [pid for pid in pids if _running(pid)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.02)


def _running(pid: int) -> bool:
    """Neither gone nor a zombie (a dead process whose parent has not collected it yet)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return False
    # the command name (field 2) may hold spaces and parentheses; the state follows its ")"
    return stat.rpartition(b")")[2].split()[:1] not in ([b"Z"], [b"X"], [])
