"""The moment a server's shutdown begins, which uvicorn does not tell the app.

uvicorn answers SIGTERM (or SIGINT) with a graceful wait: it stops accepting connections,
lets the requests in flight finish, and only then runs the app's lifespan shutdown. Requests
still run in that wait, and what they would start (a bulk child process) would start in a
server that is ending. So :func:`on_stop_signal` chains a callback in front of the handlers
uvicorn installed for its run (it installs them with ``signal.signal`` before the lifespan
starts, and puts the previous ones back when it ends, which drops the callback with them).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType

#: the signals that begin uvicorn's graceful shutdown
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

Handler = Callable[[int, FrameType | None], object]


def on_stop_signal(callback: Callable[[], None]) -> Callable[[], None]:
    """Call ``callback`` (in the main thread, so it must only set state) when a stop signal
    arrives, before the handler already there; returns what undoes it. Outside the main
    thread (an app run by a test client) there is no server's signal to follow: nothing is
    chained. A signal whose handler is the default action or ignored is left alone: no
    server waits on it."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    chained: dict[int, tuple[Handler, Handler]] = {}  # signal: (ours, the one before)
    for signum in STOP_SIGNALS:
        previous = signal.getsignal(signum)
        if previous is None or isinstance(previous, int):  # SIG_DFL or SIG_IGN: no server's
            continue
        handler = _chained(callback, previous)
        signal.signal(signum, handler)
        chained[signum] = (handler, previous)

    def undo() -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for signum, (ours, previous) in chained.items():
            if signal.getsignal(signum) is ours:  # not one uvicorn put back after its run
                signal.signal(signum, previous)
        chained.clear()

    return undo


def _chained(callback: Callable[[], None], previous: Handler) -> Handler:
    def handler(signum: int, frame: FrameType | None) -> None:
        callback()
        previous(signum, frame)

    return handler
