"""Micro-batching: concurrent requests share one model call.

A request that finds the model idle starts a batch at once (after one turn of the event loop,
or ``window`` seconds when configured, so that requests already read can join); requests that
arrive while a batch runs wait for the next one. Under load, batches grow by themselves up to
``max_size``; a lone request pays no more than one loop turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class MicroBatcher(Generic[T, R]):
    """Gathers items submitted concurrently and hands them to ``handler`` in batches."""

    def __init__(
        self,
        handler: Callable[[list[T]], Awaitable[list[R]]],
        *,
        max_size: int,
        window: float = 0.0,
    ) -> None:
        self.handler = handler
        self.max_size = max_size
        self.window = window
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._running = False

    @property
    def waiting(self) -> int:
        """Items submitted and not yet taken into a batch: a measure of load."""
        return len(self._pending)

    async def submit(self, item: T) -> R:
        """The handler's answer for ``item``, computed together with its neighbours."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
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
                batch = [(item, future) for item, future in batch if not future.done()]
                if not batch:
                    continue
                try:
                    results = await self.handler([item for item, _ in batch])
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                else:
                    for (_, future), result in zip(batch, results, strict=True):
                        if not future.done():
                            future.set_result(result)
        finally:
            self._running = False
