"""Micro-batching of concurrent submissions."""

from __future__ import annotations

import asyncio

import pytest

from newsapi.batching import MicroBatcher


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.batches: list[list[int]] = []
        self.fail = fail

    async def __call__(self, items: list[int]) -> list[int]:
        self.batches.append(items)
        await asyncio.sleep(0.01)  # a model call takes a while; others arrive meanwhile
        if self.fail:
            raise RuntimeError("model exploded")
        return [item * 10 for item in items]


def test_concurrent_submissions_share_one_call() -> None:
    async def main() -> tuple[list[int], Recorder]:
        recorder = Recorder()
        batcher = MicroBatcher(recorder, max_size=64)
        answers = await asyncio.gather(*(batcher.submit(i) for i in range(10)))
        return answers, recorder

    answers, recorder = asyncio.run(main())
    assert answers == [i * 10 for i in range(10)]
    assert recorder.batches == [list(range(10))]


def test_batches_respect_max_size_and_arrivals_wait_for_the_next() -> None:
    async def main() -> Recorder:
        recorder = Recorder()
        batcher = MicroBatcher(recorder, max_size=4)
        first = asyncio.ensure_future(asyncio.gather(*(batcher.submit(i) for i in range(10))))
        await asyncio.sleep(0.005)  # the first batch is running now
        late = await batcher.submit(99)
        assert late == 990
        assert await first == [i * 10 for i in range(10)]
        return recorder

    recorder = asyncio.run(main())
    assert recorder.batches[0] == [0, 1, 2, 3]
    assert all(len(batch) <= 4 for batch in recorder.batches)
    assert sorted(i for batch in recorder.batches for i in batch) == [*range(10), 99]


def test_lone_submission_is_not_held_for_company() -> None:
    async def main() -> Recorder:
        recorder = Recorder()
        batcher = MicroBatcher(recorder, max_size=64)
        # the model is called within a few turns of the event loop (submit, start the batch,
        # its one-turn window), not after a timer
        start = asyncio.ensure_future(batcher.submit(1))
        for _ in range(4):
            await asyncio.sleep(0)
        assert recorder.batches == [[1]]
        assert await start == 10
        assert await batcher.submit(2) == 20
        return recorder

    assert asyncio.run(main()).batches == [[1], [2]]


def test_failure_reaches_every_waiter_and_the_batcher_recovers() -> None:
    async def main() -> None:
        recorder = Recorder(fail=True)
        batcher = MicroBatcher(recorder, max_size=64)
        results = await asyncio.gather(
            *(batcher.submit(i) for i in range(3)), return_exceptions=True
        )
        assert all(isinstance(r, RuntimeError) for r in results)
        recorder.fail = False
        assert await batcher.submit(5) == 50

    asyncio.run(main())


def test_cancelled_waiter_is_skipped() -> None:
    async def main() -> Recorder:
        recorder = Recorder()
        batcher = MicroBatcher(recorder, max_size=64)
        running = asyncio.ensure_future(batcher.submit(1))
        await asyncio.sleep(0.001)
        gone = asyncio.ensure_future(batcher.submit(2))
        kept = asyncio.ensure_future(batcher.submit(3))
        await asyncio.sleep(0)
        gone.cancel()
        assert await running == 10
        assert await kept == 30
        with pytest.raises(asyncio.CancelledError):
            await gone
        return recorder

    assert asyncio.run(main()).batches == [[1], [3]]
