"""Micro-batching: concurrent requests share one model call; the model lane shares the
model thread fairly between them and large batches.

A request that finds the model idle starts a batch at once (after one turn of the event loop,
or ``window`` seconds when configured, so that requests already read can join); requests that
arrive while a batch runs wait for the next one. Under load, batches grow by themselves up to
``max_size``; a lone request pays no more than one loop turn.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from newsapi.serving.tracing.spans import Tracing

T = TypeVar("T")
R = TypeVar("R")


class MicroBatcher(Generic[T, R]):
    """Gathers items submitted concurrently and hands them to ``handler`` in batches.

    With ``tracing``, each batch's handler runs in a model-call span of its own, linked to
    the spans of the requests whose items it holds (:mod:`newsapi.serving.tracing`)."""

    def __init__(
        self,
        handler: Callable[[list[T]], Awaitable[list[R]]],
        *,
        max_size: int,
        window: float = 0.0,
        tracing: Tracing | None = None,
    ) -> None:
        self.handler = handler
        self.max_size = max_size
        self.window = window
        self.tracing = tracing
        # each item with its future and, when tracing, a link to its request's span
        self._pending: list[tuple[T, asyncio.Future[R], Any]] = []
        self._running = False

    @property
    def busy(self) -> bool:
        """A batch is being gathered or computed, or items wait for the next."""
        return self._running or bool(self._pending)

    @property
    def waiting(self) -> int:
        """Items submitted and not yet taken into a batch: a measure of load."""
        return len(self._pending)

    async def submit(self, item: T) -> R:
        """The handler's answer for ``item``, computed together with its neighbours."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        link = None if self.tracing is None else self.tracing.request_link()
        self._pending.append((item, future, link))
        if not self._running:
            self._running = True
            asyncio.get_running_loop().create_task(self._run())
        return await future

    async def _run(self) -> None:
        try:
            await asyncio.sleep(self.window)
            while self._pending:
                batch = self._pending[: self.max_size]
                del self._pending[: self.max_size]
                batch = [waiting for waiting in batch if not waiting[1].done()]
                if not batch:
                    continue
                try:
                    results = await self._handle(batch)
                except Exception as exc:
                    for _, future, _ in batch:
                        if not future.done():
                            future.set_exception(exc)
                else:
                    for (_, future, _), result in zip(batch, results, strict=True):
                        if not future.done():
                            future.set_result(result)
        finally:
            self._running = False

    async def _handle(self, batch: list[tuple[T, asyncio.Future[R], Any]]) -> list[R]:
        items = [item for item, _, _ in batch]
        if self.tracing is None:
            return await self.handler(items)
        links = [link for _, _, link in batch]
        with self.tracing.model_call("micro-batch", links, len(items), own_trace=True):
            return await self.handler(items)


def chunk_end(items: list[T], start: int, size: Callable[[T], int], budget: int) -> int:
    """Where the chunk of ``items`` that begins at ``start`` ends: as many items as fit in
    ``budget`` (their ``size`` summed), and at least one."""
    end = start
    while end < len(items) and (end == start or budget > 0):
        budget -= size(items[end])
        end += 1
    if budget < 0 and end - start > 1:
        end -= 1  # the last one overflowed: it starts the next chunk
    return end


class ModelLane:
    """The one model thread, shared fairly between small jobs and the chunks of bulk jobs.

    A job holds the lane while it runs in ``executor``. Small jobs (the micro-batches of
    single texts) run whole; a bulk job (a large ``/predictions`` call) runs chunk by chunk,
    queueing again after each chunk. When both kinds wait, they take turns: a chunk, then a
    small job, then a chunk... so a single text waits for at most one chunk, and bulk jobs
    still finish (they share the lane round-robin). A chunk holds about ``chunk_chars``
    characters while small jobs have been seen in the last ``contended_for`` seconds, and
    ``IDLE_CHUNKS`` times as many otherwise (one model call is cheaper per text than
    several; never the whole of a huge job, so that a newcomer waits for one chunk at most).
    """

    IDLE_CHUNKS = 16

    def __init__(
        self,
        executor: Executor,
        *,
        chunk_chars: int,
        contended_for: float = 0.25,
        tracing: Tracing | None = None,
    ) -> None:
        self.executor = executor
        self.chunk_chars = chunk_chars
        self.contended_for = contended_for
        self.tracing = tracing  # a model-call span per chunk (:meth:`run_chunked`)
        self._small: deque[asyncio.Future[None]] = deque()
        self._bulk: deque[asyncio.Future[None]] = deque()
        self._busy = False
        self._last_was_bulk = False
        self._last_small = -math.inf

    async def run(self, work: Callable[[], R]) -> R:
        """``work()`` in the model thread, as a small job."""
        self._last_small = time.monotonic()
        await self._acquire(self._small)
        self._last_was_bulk = False
        try:
            return await asyncio.get_running_loop().run_in_executor(self.executor, work)
        finally:
            self._release()

    async def run_chunked(
        self,
        items: list[T],
        work: Callable[[list[T]], list[R]],
        size: Callable[[T], int],
        attributes: Mapping[str, str] | None = None,
    ) -> list[R]:
        """``work`` over ``items`` in the model thread, chunk by chunk, as a bulk job;
        the results in order. ``size(item)`` is an item's share of :attr:`chunk_chars`.
        With tracing, each chunk is a model-call span with ``attributes``, a child of the
        current request's span and linked to it."""
        results: list[R] = []
        start = 0
        loop = asyncio.get_running_loop()
        tracing = self.tracing
        link = None if tracing is None else tracing.request_link()
        while start < len(items):
            await self._acquire(self._bulk)
            self._last_was_bulk = True
            try:
                end = self._chunk_end(items, start, size)
                chunk = items[start:end]
                if tracing is None:
                    results += await loop.run_in_executor(self.executor, work, chunk)
                else:
                    with tracing.model_call("chunk", [link], len(chunk), attributes):
                        results += await loop.run_in_executor(self.executor, work, chunk)
                start = end
            finally:
                self._release()
        return results

    @property
    def free(self) -> bool:
        """No job holds the model thread or waits for it."""
        return not self._busy

    @property
    def idle(self) -> bool:
        """No job holds the model thread or waits for it, and no small job was seen in the
        last ``contended_for`` seconds: a job started now runs at once, sharing with nobody."""
        return not self._busy and not self._contended()

    def _contended(self) -> bool:
        return bool(self._small) or time.monotonic() - self._last_small <= self.contended_for

    def _chunk_end(self, items: list[T], start: int, size: Callable[[T], int]) -> int:
        budget = self.chunk_chars
        if not self._contended():
            budget *= self.IDLE_CHUNKS
        return chunk_end(items, start, size, budget)

    async def _acquire(self, line: deque[asyncio.Future[None]]) -> None:
        if not self._busy:
            self._busy = True
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        line.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._release()  # handed the lane as we were cancelled: pass it on
            raise

    def _release(self) -> None:
        # the other kind first, when both wait: turns
        order = (self._small, self._bulk) if self._last_was_bulk else (self._bulk, self._small)
        for line in order:
            while line:
                turn = line.popleft()
                if not turn.done():
                    turn.set_result(None)
                    return
        self._busy = False
