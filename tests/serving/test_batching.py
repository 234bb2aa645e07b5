"""Micro-batching of concurrent submissions."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from newsapi.serving.batching import MicroBatcher, ModelLane


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


# -- the model lane ------------------------------------------------------------------------------
class Calls:
    """Work for the lane's thread that records what ran, in order."""

    def __init__(self) -> None:
        self.log: list[str] = []

    def chunk(self, items: list[str]) -> list[str]:
        time.sleep(0.005)  # a model call on a chunk takes a while
        self.log.append("chunk:" + ",".join(items))
        return [item.upper() for item in items]

    def single(self, name: str) -> str:
        self.log.append(name)
        return name


def test_single_jobs_go_between_the_chunks_of_a_bulk_job() -> None:
    calls = Calls()

    async def main() -> tuple[list[str], list[str]]:
        with ThreadPoolExecutor(1) as executor:
            lane = ModelLane(executor, chunk_chars=2, contended_for=10)
            await lane.run(lambda: calls.single("warm"))  # small work seen: contended
            items = [f"b{i}" for i in range(6)]  # 2 characters each: one per chunk
            bulk = asyncio.ensure_future(lane.run_chunked(items, calls.chunk, len))
            await asyncio.sleep(0.001)  # the first chunk is running
            singles = await asyncio.gather(
                *(lane.run(lambda n=n: calls.single(n)) for n in ("s1", "s2", "s3"))  # type: ignore[misc]
            )
            return await bulk, singles

    results, singles = asyncio.run(main())
    assert results == ["B0", "B1", "B2", "B3", "B4", "B5"]  # in order, every one
    assert singles == ["s1", "s2", "s3"]
    # one chunk, then a single, then a chunk...: turns while both kinds wait
    assert calls.log == [
        "warm", "chunk:b0", "s1", "chunk:b1", "s2", "chunk:b2", "s3",
        "chunk:b3", "chunk:b4", "chunk:b5",
    ]  # fmt: skip


def test_two_bulk_jobs_share_the_lane_and_both_finish() -> None:
    calls = Calls()

    async def main() -> list[list[str]]:
        with ThreadPoolExecutor(1) as executor:
            lane = ModelLane(executor, chunk_chars=2, contended_for=10)
            await lane.run(lambda: calls.single("warm"))
            jobs = [lane.run_chunked([f"{x}{i}" for i in range(3)], calls.chunk, len) for x in "ab"]
            return await asyncio.gather(*jobs)

    assert asyncio.run(main()) == [["A0", "A1", "A2"], ["B0", "B1", "B2"]]
    assert calls.log[1:] == ["chunk:a0", "chunk:b0", "chunk:a1", "chunk:b1", "chunk:a2", "chunk:b2"]


def test_an_uncontended_bulk_job_goes_in_big_chunks() -> None:
    calls = Calls()
    items = [f"x{i:02}" for i in range(40)]  # 3 characters each

    async def main() -> list[str]:
        with ThreadPoolExecutor(1) as executor:
            lane = ModelLane(executor, chunk_chars=6, contended_for=0)
            return await lane.run_chunked(items, calls.chunk, len)

    assert asyncio.run(main()) == [item.upper() for item in items]
    # 16 times the contended chunk (6 characters, two items): 32 items, then the rest
    assert calls.log == ["chunk:" + ",".join(items[:32]), "chunk:" + ",".join(items[32:])]


def test_a_cancelled_waiter_passes_the_lane_on() -> None:
    calls = Calls()

    async def main() -> str:
        with ThreadPoolExecutor(1) as executor:
            lane = ModelLane(executor, chunk_chars=100)
            first = asyncio.ensure_future(lane.run_chunked(["a"], calls.chunk, len))
            await asyncio.sleep(0)
            gone = asyncio.ensure_future(lane.run(lambda: calls.single("gone")))
            kept = asyncio.ensure_future(lane.run(lambda: calls.single("kept")))
            await asyncio.sleep(0)
            gone.cancel()
            await first
            return await kept

    assert asyncio.run(main()) == "kept"
    assert calls.log == ["chunk:a", "kept"]
