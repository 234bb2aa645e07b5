"""``--jobs N``: the pieces scored by N local processes, without Dask.

The processes are forked from this one once the model is loaded and checked, so each starts
with the model in memory (shared with this process until written to): nothing is sent, loaded
or unpickled again. This process hands each piece, in order, to whichever process is free,
and collects what each piece gave; the processes score a piece with the same streaming loop
as one process (:func:`~newsapi.scoring.local.score_piece`) and write its part files into the
same staging folder, so the output is the same, row for row, and an interrupted run resumes
as any other. When the id is the row number of a CSV or JSON Lines input, they first count
each piece's rows, as Dask's workers do.

However the run ends (finished, an error, Ctrl-C, a stop signal) the processes are ended and
waited for before this returns or raises; Ctrl-C reaches them with this process's own group,
and they leave it to this one. Killed (SIGKILL), this process takes them with it: each asks
the kernel for SIGKILL when its parent dies (Linux's ``PR_SET_PDEATHSIG``), so no orphan
goes on writing into the staging folder. A process that dies stops the run as an
:class:`OSError` does: the finished parts are kept for ``--resume``.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterator
from functools import partial
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from newsapi.scoring.batches import Scorer
from newsapi.scoring.local import OnProgress, PieceResult, first_rows, score_piece
from newsapi.scoring.readers import count_rows
from newsapi.scoring.sinks import Parts
from newsapi.scoring.sources import Piece, Plan

#: fork: the children start with the loaded model and this module's state (Linux, as the
#: end-with-the-parent request below)
FORK = multiprocessing.get_context("fork")
#: seconds a process gets to end after SIGTERM before SIGKILL
GRACE_SECONDS = 5.0
_PR_SET_PDEATHSIG = 1

Task = tuple[Callable[..., Any], tuple[Any, ...]]


class ScoringProcessError(ChildProcessError):
    """A scoring process ended before its piece was done (killed, out of memory)."""


def run_processes(
    plan: Plan,
    scorer: Scorer,
    parts: Parts,
    jobs: int,
    on_progress: OnProgress | None = None,
) -> list[PieceResult]:
    """Every piece scored by ``jobs`` processes forked from this one (fewer when there are
    fewer pieces to score); the results in piece order, as :func:`run_local` gives them."""
    report = on_progress or (lambda rows, size: None)
    results: dict[int, PieceResult] = {}
    todo = []
    for piece in plan.pieces:
        finished = parts.finished_piece(piece.index)
        if finished is None:
            todo.append(piece)
            continue
        results[piece.index] = PieceResult(
            piece.index, finished.rows, finished.unread, finished.rows
        )
        report(finished.rows, piece.size)
    if todo:
        with _processes(min(jobs, len(todo)), scorer) as pool:
            first = first_rows(plan, parts, partial(_count_in, pool, plan))
            tasks: list[Task] = [
                (_score, (plan, piece, parts, first[piece.index])) for piece in todo
            ]
            sizes = {piece.index: piece.size for piece in todo}
            for result in pool.run(tasks):
                results[result.index] = result
                report(result.rows, sizes[result.index])
    return [results[piece.index] for piece in plan.pieces]


def _count_in(pool: _Pool, plan: Plan, pieces: list[Piece]) -> dict[int, int]:
    """The rows of ``pieces``, counted by the processes."""
    tasks: list[Task] = [(_count, (plan, piece)) for piece in pieces]
    return dict(pool.run(tasks))


def _score(scorer: Scorer, plan: Plan, piece: Piece, parts: Parts, first_row: int) -> PieceResult:
    return score_piece(plan, piece, scorer, parts, first_row)


def _count(scorer: Scorer, plan: Plan, piece: Piece) -> tuple[int, int]:
    return piece.index, count_rows(plan, piece)


class _Pool:
    """Forked processes, each told one task at a time through a pipe of its own."""

    def __init__(self) -> None:
        self.children: list[tuple[BaseProcess, Connection]] = []

    def start(self, count: int, scorer: Scorer) -> None:
        for _ in range(count):
            mine, theirs = FORK.Pipe()
            process = FORK.Process(target=_serve, args=(theirs, scorer, os.getpid()), daemon=True)
            process.start()
            theirs.close()
            self.children.append((process, mine))

    def run(self, tasks: list[Task]) -> list[Any]:
        """Each task's value, in the order of ``tasks``: each handed to the first process
        free; the first error raised again here."""
        waiting = deque(enumerate(tasks))
        values: dict[int, Any] = {}
        busy: dict[Connection, tuple[BaseProcess, int]] = {}
        idle = list(self.children)
        while waiting or busy:
            while waiting and idle:
                process, connection = idle.pop()
                number, task = waiting.popleft()
                connection.send(task)
                busy[connection] = (process, number)
            sentinels = {process.sentinel: process for process, _ in busy.values()}
            for ready in wait([*busy, *sentinels]):
                if isinstance(ready, int):  # a process ended: its pipe says how, if at all
                    continue
                assert isinstance(ready, Connection)
                process, number = busy.pop(ready)
                try:
                    ok, value = ready.recv()
                except EOFError:
                    process.join(GRACE_SECONDS)
                    raise ScoringProcessError(
                        f"a scoring process ended with exit code {process.exitcode} before "
                        "its piece was done"
                    ) from None
                if not ok:
                    raise value
                values[number] = value
                idle.append((process, ready))
            for process, _ in list(busy.values()):
                if not process.is_alive():
                    raise ScoringProcessError(
                        f"a scoring process ended with exit code {process.exitcode} before "
                        "its piece was done"
                    )
        return [values[number] for number in range(len(tasks))]

    def close(self) -> None:
        """Tell the processes to end, and end those that do not (a piece cut short)."""
        for _, connection in self.children:
            with contextlib.suppress(OSError):
                connection.send(None)
            connection.close()
        for process, _ in self.children:
            process.join(0.5 if process.is_alive() else 0)
            if process.is_alive():
                process.terminate()
                process.join(GRACE_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()


@contextlib.contextmanager
def _processes(count: int, scorer: Scorer) -> Iterator[_Pool]:
    pool = _Pool()
    try:  # a Ctrl-C between two forks ends the first process too
        pool.start(count, scorer)
        yield pool
    except BaseException:
        for process, _ in pool.children:  # a piece cut short ends now, not at its end
            if process.is_alive():
                process.terminate()
        raise
    finally:
        pool.close()


def _serve(connection: Connection, scorer: Scorer, parent: int) -> None:
    """A scoring process: run each task it is sent with the model it was forked with, send
    back its value (or its error), until told to end."""
    # Ctrl-C is the parent's to handle (it ends this process); SIGTERM and SIGHUP end it at
    # once, whatever handler the parent had set
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request above: end now
        os._exit(1)
    while True:
        try:
            task = connection.recv()
        except EOFError:  # the parent is gone
            return
        if task is None:
            return
        function, args = task
        try:
            reply: tuple[bool, Any] = (True, function(scorer, *args))
        except BaseException as exc:  # the parent raises it again
            reply = (False, exc)
        try:
            connection.send(reply)
        except Exception as exc:  # an error that does not pickle: its text does
            connection.send((False, RuntimeError(f"{type(exc).__name__}: {reply[1]}")))
