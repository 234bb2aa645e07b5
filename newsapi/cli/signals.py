"""SIGTERM and SIGHUP stop a command that runs notebooks the way Ctrl-C does.

``timeout``, systemd, a CI runner or a closed terminal stop a command with SIGTERM or SIGHUP,
whose default action ends the process at once: no ``finally`` runs, so the kernel's workers
were left running and the run's staging folder left in the store. Here both first send
SIGTERM to the run's processes (:func:`newsapi.jobs.processes.terminate_running`), then raise
:class:`KeyboardInterrupt` in the main thread, so that the clean-up Ctrl-C runs (the kernel
shut down, every process of the run waited for, the staging folder removed,
:mod:`newsapi.store.staging`) runs for them too. A second signal while that runs is ignored
(SIGKILL remains the hard stop). The command then says so in one line and ends by the same
signal, with the default action, so that its caller sees how it ended. The line says what the
run left: its unfinished files removed, or, for a command whose interrupted run is resumed
(``newsapi score`` keeps its finished parts), what the command set on the way out
(:attr:`Stopped.left`).
"""

from __future__ import annotations

import functools
import os
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import ParamSpec, TypeVar, overload

import click

#: the signals that stop a command as Ctrl-C does
STOPPING = (signal.SIGTERM, signal.SIGHUP)

#: what a stopped run left, unless the command says otherwise (:attr:`Stopped.left`)
ENDED = "the run's processes are ended and its unfinished files removed"

P = ParamSpec("P")
R = TypeVar("R")


class Stopped(KeyboardInterrupt):
    """What SIGTERM or SIGHUP raises in the command: Ctrl-C's interrupt, so that the same
    clean-up runs, with the signal and what the run left for the stop line (``left``), which a
    command that keeps something of an interrupted run sets as it unwinds."""

    def __init__(self, signum: int) -> None:
        super().__init__()
        self.signum = signum
        self.left = ENDED


@overload
def stops_like_ctrl_c(command: Callable[P, R]) -> Callable[P, R]: ...


@overload
def stops_like_ctrl_c(
    *, end_processes_first: bool
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def stops_like_ctrl_c(
    command: Callable[P, R] | None = None, *, end_processes_first: bool = True
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Run the command with SIGTERM and SIGHUP raising :class:`Stopped` (a
    :class:`KeyboardInterrupt`) once.

    With ``end_processes_first`` (a notebook's run) the run's processes get SIGTERM before the
    interrupt: jupyter_client would interrupt the kernel's with SIGINT, and a worker still
    starting prints a traceback for it. Without (``newsapi score``), the clean-up ends them in
    its own order (a LocalCluster closed by its client, whose scheduler logs an error for
    each worker that vanishes under it), and :mod:`newsapi.jobs.processes` ends whatever is
    left after it."""
    if command is None:
        return functools.partial(_stopping, end_processes_first=end_processes_first)
    return _stopping(command, end_processes_first=end_processes_first)


def _stopping(command: Callable[P, R], *, end_processes_first: bool) -> Callable[P, R]:
    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        received: list[int] = []

        def stop(signum: int, frame: FrameType | None) -> None:
            if received:  # the first one's clean-up is running: let it finish
                return
            received.append(signum)
            if end_processes_first:
                from newsapi.jobs.processes import terminate_running

                terminate_running()
            raise Stopped(signum)

        previous = {signum: signal.signal(signum, stop) for signum in STOPPING}
        try:
            return command(*args, **kwargs)
        except KeyboardInterrupt as interrupt:
            if not received:  # Ctrl-C: click's own "Aborted!"
                raise
            name = signal.Signals(received[0]).name
            left = interrupt.left if isinstance(interrupt, Stopped) else ENDED
            _close_progress_bars()
            click.echo(f"newsapi: stopped by {name}; {left}", err=True)
            sys.stdout.flush()
            sys.stderr.flush()
            signal.signal(received[0], signal.SIG_DFL)
            os.kill(os.getpid(), received[0])
            raise  # not reached: the signal's default action ends the process
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    return wrapper


def _close_progress_bars() -> None:
    """Close the progress bars the interrupted notebooks left drawn, so that the stop line
    starts a line of its own instead of ending a bar's."""
    try:
        from tqdm import tqdm
    except ImportError:  # papermill brings it; without it no bar was drawn
        return
    for bar in list(getattr(tqdm, "_instances", ())):
        bar.close()
