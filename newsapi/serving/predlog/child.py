"""Measuring in a child process: the log writer's tokenising and scoring off the worker's GIL.

Measuring a text costs about what answering it did (the model's own arithmetic, again), and in
the writer's thread it competes for the GIL with the event loop and the model thread. Once a
writer has measured :data:`START_AFTER` texts of one model (a worker under steady traffic,
not one that answers now and then), it starts one child process (``spawn``, at a niceness 10
higher than the worker's) that gets the model, pickled, and measures from then on; the writer's
thread only waits for it, without the GIL. Like the bulk process's child, it never outlives
the worker (it watches its parent, :func:`newsapi.serving.bulk._settle`), and stopping the
writer waits for it to exit. Until the child is ready, when it fails, and for
another model until its own child is ready, the writer's thread measures (the same function,
so the same values). A failed child is retired and a new one tried after :data:`RETRY_SECONDS`.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

# the bulk process's child settles the same way: niceness, and exiting with its worker
from newsapi.serving.bulk import _settle
from newsapi.serving.predictor import Predictor, prepare
from newsapi.serving.predlog.record import measure_columns

log = logging.getLogger("newsapi.serving.predlog")

START_AFTER = 1000
RETRY_SECONDS = 30.0
STOP_TIMEOUT = 10.0  # seconds stopping waits for the child to exit

_served: tuple[Predictor, list[str]] | None = None  # in the child: its model


def _install(parent: int, pipeline: Any, names: list[str]) -> None:
    global _served
    _settle(parent)
    _served = (prepare(pipeline), names)


def _measure(texts: list[str]) -> dict[str, list[Any]]:
    assert _served is not None
    return measure_columns(_served[0], _served[1], texts)


class ChildMeasurer:
    """:func:`~newsapi.serving.predlog.record.measure_columns`, in a child process once the
    traffic warrants one (see the module's docstring); used by the writer's thread only."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._ready: Future[int] | None = None
        self._model: Predictor | None = None  # the model the child measures for
        self._measured: dict[int, int] = {}  # texts measured in the thread, per model
        self._retry_at = 0.0
        self.measured_in_child = 0  #: texts the child measured

    @property
    def pid(self) -> int | None:
        """The child's process id once it is ready, else None."""
        ready = self._ready
        if ready is None or not ready.done() or ready.exception() is not None:
            return None
        return ready.result()

    def measure(
        self, predictor: Predictor, names: Sequence[str], texts: list[str]
    ) -> dict[str, list[Any]]:
        if self._model is predictor and self._ready is not None and self._ready.done():
            try:
                self._ready.result()  # raises what stopped the child from starting
                assert self._pool is not None
                columns: dict[str, list[Any]] = self._pool.submit(_measure, texts).result()
                self.measured_in_child += len(texts)
                return columns
            except Exception as exc:  # a child killed or broken: the thread measures
                log.warning("the prediction log's child process failed (%r); measuring in "
                            "the worker until another one starts", exc)  # fmt: skip
                self.stop()
                self._retry_at = time.monotonic() + RETRY_SECONDS
        columns = measure_columns(predictor, names, texts)
        count = self._measured.get(id(predictor), 0) + len(texts)
        self._measured = {id(predictor): count}  # only the latest model's count
        waiting = time.monotonic() < self._retry_at
        if count >= START_AFTER and self._model is not predictor and not waiting:
            self._start(predictor, list(names))
        return columns

    def _start(self, predictor: Predictor, names: list[str]) -> None:
        self.stop()
        try:
            pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_install,
                initargs=(os.getpid(), predictor.pipeline, names),
            )
            self._ready = pool.submit(os.getpid)  # done once the child has the model
        except Exception as exc:
            log.warning("the prediction log's child process did not start (%r)", exc)
            self._retry_at = time.monotonic() + RETRY_SECONDS
            return
        self._pool, self._model = pool, predictor

    def stop(self, wait: bool = False) -> None:
        """Retire the child: it exits once its current call, if any, is done (``wait``: wait
        for that, at most :data:`STOP_TIMEOUT` seconds)."""
        pool, self._pool, self._ready, self._model = self._pool, None, None, None
        if pool is None:
            return
        if not wait:
            pool.shutdown(wait=False, cancel_futures=True)
            return
        done = threading.Thread(target=pool.shutdown, kwargs={"cancel_futures": True})
        done.start()
        done.join(STOP_TIMEOUT)
