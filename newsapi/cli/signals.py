"""SIGTERM and SIGHUP stop a command that runs notebooks the way Ctrl-C does.

``timeout``, systemd, a CI runner or a closed terminal stop a command with SIGTERM or SIGHUP,
whose default action ends the process at once: no ``finally`` runs, so the kernel's workers
were left running and the run's staging folder left in the store. Here both first send
SIGTERM to the run's processes (:func:`newsapi.jobs.processes.terminate_running`), then raise
:class:`KeyboardInterrupt` in the main thread, so that the clean-up Ctrl-C runs (the kernel
shut down, every process of the run waited for, the staging folder removed,
:mod:`newsapi.store.staging`) runs for them too. A second signal while that runs is ignored
(SIGKILL remains the hard stop). The command then says so in one line and ends by the same
signal, with the default action, so that its caller sees how it ended.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import ParamSpec, TypeVar

import click

#: the signals that stop a command as Ctrl-C does
STOPPING = (signal.SIGTERM, signal.SIGHUP)

P = ParamSpec("P")
R = TypeVar("R")


def stops_like_ctrl_c(command: Callable[P, R]) -> Callable[P, R]:
    """Run the command with SIGTERM and SIGHUP raising :class:`KeyboardInterrupt` once."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        received: list[int] = []

        def stop(signum: int, frame: FrameType | None) -> None:
            if received:  # the first one's clean-up is running: let it finish
                return
            received.append(signum)
            from newsapi.jobs.processes import terminate_running

            terminate_running()
            raise KeyboardInterrupt

        previous = {signum: signal.signal(signum, stop) for signum in STOPPING}
        try:
            return command(*args, **kwargs)
        except KeyboardInterrupt:
            if not received:  # Ctrl-C: click's own "Aborted!"
                raise
            name = signal.Signals(received[0]).name
            click.echo(
                f"newsapi: stopped by {name}; the run's processes are ended and its unfinished "
                "files removed",
                err=True,
            )
            sys.stdout.flush()
            sys.stderr.flush()
            signal.signal(received[0], signal.SIG_DFL)
            os.kill(os.getpid(), received[0])
            raise  # not reached: the signal's default action ends the process
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    return wrapper
