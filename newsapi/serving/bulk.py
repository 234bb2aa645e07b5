"""Large ``/predictions`` calls on the other core: a child process holding the served model.

Tokenising is Python code that holds the GIL, so within one worker the model thread and the
event loop take turns on a single core, and one worker answered ``/predictions`` well below the
bare model's documents/s (the docs' benchmark page). The model work of large calls goes instead
to one child process per worker, which gets the very model the worker serves, pickled (it reads
no file, so it can never serve another version). It starts on the first large call after the
model is installed; until it is ready, and whenever it fails, the model thread does the work, so
nothing ever waits for it. It takes only the large calls that find the model thread busy: an idle
thread computes a call sooner than the hand-off would, and with the thread busy the child's core
adds to it. The event loop keeps the requests, the caches and the answers; the
micro-batches of single texts stay in the model thread and never wait behind a large call's
chunk.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import pickle
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from newsapi.serving.batching import chunk_end
from newsapi.serving.predictor import Predictor, prepare
from newsapi.serving.stop_signals import on_stop_signal

log = logging.getLogger(__name__)

# spawn, not fork: the worker has threads (the model thread, the disk writer) whose locks a
# forked child would inherit in whatever state they were
SPAWN = multiprocessing.get_context("spawn")
START_TIMEOUT = 60.0  # seconds for the child to import the libraries and unpickle the model
RETRY_AFTER = 30.0  # seconds before a child is started again after one failed or died
NICE = 10  # the child's scheduling niceness over the worker's (os.nice)
ORPHAN_CHECK = 1.0  # seconds between the child's looks at its parent

_predictor: Predictor | None = None  # in the child: the model it predicts with


def _settle(parent: int) -> None:
    """In the child, before anything else (the pool's initializer): yield the cores, and
    never outlive the worker, even one killed while the child was still starting."""
    # when the cores are contended, the worker's own threads (the event loop, the model
    # thread serving single texts) go first: large calls take what is left
    os.nice(NICE)
    watch = threading.Thread(target=_exit_with, args=(parent,), name="orphan-watch", daemon=True)
    watch.start()


def _exit_with(parent: int) -> None:
    # a worker killed with SIGKILL never shuts its executor down, and the child holds its
    # own end of the task pipe, so it would wait for tasks for ever: it leaves by itself
    while os.getppid() == parent:
        time.sleep(ORPHAN_CHECK)
    os._exit(0)


def _adopt(payload: bytes) -> int:
    """In the child: take the model and prepare it as the worker did (the same lean path or
    the same fallback, :func:`~newsapi.serving.predictor.prepare`); its pid."""
    global _predictor
    _predictor = prepare(pickle.loads(payload))  # noqa: S301  (the worker pickled its own model)
    return os.getpid()


def labels_in_child(texts: list[str]) -> list[int]:
    """In the child: the label of each text (an index into the artifact's target_names)."""
    assert _predictor is not None  # adopted before any task
    labels: list[int] = _predictor.labels(texts).tolist()
    return labels


class BulkProcess:
    """The child process of one worker, for the model version it was started with."""

    def __init__(self, *, chunk_chars: int) -> None:
        self.chunk_chars = chunk_chars
        self.version: str | None = None  # the model the ready child holds
        self.pid: int | None = None
        self._executor: ProcessPoolExecutor | None = None
        self._wanted: str | None = None  # the version a child is being started for
        self._starting: set[asyncio.Task[None]] = set()
        self._pending: set[ProcessPoolExecutor] = set()  # pools whose child is starting
        self._failed_at = -RETRY_AFTER
        self._stopped = False
        self._closed = False  # the server's shutdown has begun: no child starts
        self._unwatch: Callable[[], None] = lambda: None

    @property
    def starting(self) -> bool:
        """A child is being started."""
        return self._wanted is not None

    def ready_for(self, version: str, pipeline: Any) -> ProcessPoolExecutor | None:
        """The child's pool when it holds ``version`` and is ready, else None (and a child
        for ``version`` is started in the background, unless one failed just now)."""
        if self.version == version and self._executor is not None:
            return self._executor
        if (
            not self._stopped
            and not self._closed
            and self._wanted != version
            and time.monotonic() - self._failed_at >= RETRY_AFTER
        ):
            self._wanted = version
            task = asyncio.create_task(self._start(version, pipeline))
            self._starting.add(task)
            task.add_done_callback(self._starting.discard)
        return None

    def watch_shutdown(self) -> None:
        """From the server's stop signal on, start no child (:meth:`close`): uvicorn's
        graceful wait runs the requests in flight before the app's :meth:`stop`, and a large
        one would otherwise start a child in a server that is ending (it was seen, and the
        interpreter warned of the child's leaked semaphores)."""
        self._unwatch = on_stop_signal(self.close)

    def close(self) -> None:
        """Start no child from now on; a ready or starting one stays, to be shut down by
        :meth:`stop`. Large calls without a ready child use the model thread, as they do
        whenever none is ready. Only sets state: it runs in a signal handler."""
        self._closed = True

    async def predict(self, executor: ProcessPoolExecutor, texts: list[str]) -> list[int]:
        """The labels of ``texts``, computed by the child in chunks of about
        :attr:`chunk_chars` characters. A call keeps at most two of its chunks in the pool
        (the next one queued while the child computes one, so the child does not wait for
        the event loop between them); calls queue in the pool in the order they come, so
        concurrent large calls take turns."""
        loop = asyncio.get_running_loop()
        sent: deque[asyncio.Future[list[int]]] = deque()
        labels: list[int] = []
        try:
            for chunk in self._chunks(texts):
                sent.append(loop.run_in_executor(executor, labels_in_child, chunk))
                if len(sent) == 2:
                    labels += await sent.popleft()
            while sent:
                labels += await sent.popleft()
        finally:
            for future in sent:  # after a failure: nobody waits for these any more
                future.cancel()
        return labels

    async def labels_for(
        self, version: str, pipeline: Any, texts: list[str], *, thread_idle: bool = False
    ) -> list[int] | None:
        """The labels of ``texts`` from the child when it is ready for this model and the
        caller's model thread is busy, else None: the model thread does the work then, so
        nothing ever waits for the child. An idle thread answers sooner than a hand-off to the
        child would (the call still starts a child when none is ready, for the calls that will
        find the thread busy)."""
        pool = self.ready_for(version, pipeline)
        if pool is None or thread_idle:
            return None
        try:
            return await self.predict(pool, texts)
        except BrokenProcessPool as exc:  # the child died
            self.died(version, exc)
        except Exception as exc:
            # its pool was shut down for a newer model, or its predict raised: the model
            # thread does the work (and reports any error of its own as usual)
            log.debug("bulk process call failed (%r): using the model thread", exc)
        return None

    def _chunks(self, texts: list[str]) -> Iterator[list[str]]:
        start = 0
        while start < len(texts):
            end = chunk_end(texts, start, len, self.chunk_chars)
            yield texts[start:end]
            start = end

    def died(self, version: str, exc: BaseException) -> None:
        """A call to the child failed: drop it (the caller does the work in the thread)."""
        if self.version != version:
            return  # already replaced
        log.warning(
            "the bulk process %s stopped (%s): large /predictions calls use the model thread; "
            "a new one starts in %.0f s",
            self.pid,
            exc.__class__.__name__,
            RETRY_AFTER,
        )
        self._failed_at = time.monotonic()
        self.retire()

    async def _start(self, version: str, pipeline: Any) -> None:
        executor = ProcessPoolExecutor(
            max_workers=1, mp_context=SPAWN, initializer=_settle, initargs=(os.getpid(),)
        )
        self._pending.add(executor)  # so that stop() can shut it down while it starts
        try:
            pid = await asyncio.to_thread(_adopt_in, executor, pipeline)
        except Exception as exc:  # a pickling or start failure: the thread keeps the work
            executor.shutdown(wait=False, cancel_futures=True)
            if not self._stopped:
                log.warning(
                    "the bulk process did not start (%s): large /predictions calls use the "
                    "model thread",
                    exc,
                )
            self._failed_at = time.monotonic()
            if self._wanted == version:
                self._wanted = None
            return
        finally:
            self._pending.discard(executor)
        if self._stopped or self._wanted != version:  # stopped, or another model came
            executor.shutdown(wait=False)
            return
        self._wanted = None
        self.retire()
        self._executor, self.pid, self.version = executor, pid, version
        log.info("bulk process %d started for model %s", pid, version)

    def retire(self) -> None:
        """Let the child go (once its chunks in flight are done): it died, or another model
        is served now; the next large call starts one for the served model."""
        executor, self._executor = self._executor, None
        self.version = self.pid = None
        if executor is not None:
            # chunks already sent finish; the child exits after them
            executor.shutdown(wait=False)

    async def stop(self) -> None:
        """From now on start no child; shut the child down once its chunks are done, and a
        child still starting once it has started, and wait for both to exit (at most
        :data:`START_TIMEOUT` each). A worker that ended first would leave its child running
        and its pool's semaphores to multiprocessing's resource tracker, which warns about
        them as leaked."""
        self._stopped = True
        self._unwatch()
        for task in list(self._starting):
            task.cancel()
        self._wanted = None
        # each pool, and whether its queued work is cancelled: a starting child's start is,
        # the ready child's chunks in flight are not
        leaving = [(pool, True) for pool in self._pending]
        if self._executor is not None:
            leaving.append((self._executor, False))
            self._executor = None
        self.retire()
        for pool, cancel in leaving:
            # the first shutdown() is the one that can wait: it forgets the pool's manager
            # thread, so a later call with wait=True returns at once
            waiting = asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=cancel)
            try:
                await asyncio.wait_for(waiting, START_TIMEOUT)
            except TimeoutError:
                log.warning("the bulk process did not exit within %.0f s", START_TIMEOUT)


def _adopt_in(executor: ProcessPoolExecutor, pipeline: Any) -> int:
    """Blocking: start ``executor``'s one child with ``pipeline``, warmed up; its pid."""
    payload = pickle.dumps(pipeline, protocol=pickle.HIGHEST_PROTOCOL)
    pid: int = executor.submit(_adopt, payload).result(timeout=START_TIMEOUT)
    return pid
