"""The disk writer: a queue bounded in bytes, and trims on written bytes, not only a timer."""

from __future__ import annotations

import threading
import time
import tracemalloc
from pathlib import Path

from newsapi.serving.activity import Activity
from newsapi.serving.cache.disk import ENTRY_DISK_BYTES, DiskTier, Entry
from newsapi.serving.cache.keys import entry_key
from newsapi.serving.cache.signals import ClearSignal
from newsapi.serving.cache.writer import QUEUE_ENTRY_BYTES, DiskWriter
from newsapi.serving.metrics import Metrics
from tests.support import disk_usage, metric, wait_for


def writer_for(folder: Path, limit: int, queue_bytes: int, metrics: Metrics) -> DiskWriter:
    disk = DiskTier(folder, limit, metrics)
    return DiskWriter(
        disk,
        ClearSignal(folder),
        metrics,
        write_budget=1.0,
        queue_bytes=queue_bytes,
        reduce_interval=3600,  # never on the timer in these tests
    )


def exposition(metrics: Metrics) -> str:
    return metrics.exposition()[0].decode()


def rows(count: int, prefix: str = "") -> list[Entry]:
    long = "long text " * 9_000
    return [(entry_key("v1", f"{prefix}{i} {long}"), "space") for i in range(count)]


def test_the_queue_holds_no_more_than_its_bytes(tmp_path: Path) -> None:
    metrics = Metrics()
    writer = writer_for(tmp_path / "cache", 2**20, 64 * 2**10, metrics)  # not started
    waiting = rows(writer.queue_entries)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for i in range(0, len(waiting), 8):
            writer.submit(waiting[i : i + 8])
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    writer.submit(rows(3, "more "))  # over the bound: dropped, counted
    assert held - before <= writer.max_bytes <= 64 * 2**10
    dropped = metric(exposition(metrics), "newsapi_cache_disk_writes_dropped_total")
    assert dropped == 3
    assert writer.max_bytes == writer.queue_entries * QUEUE_ENTRY_BYTES


def test_the_folder_stays_near_its_limit_between_timed_trims(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    limit = 100 * ENTRY_DISK_BYTES
    metrics = Metrics()
    writer = writer_for(folder, limit, 2**20, metrics)
    sizes: list[int] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            sizes.append(disk_usage(folder))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    writer.start()
    try:
        for start in range(0, 300, 20):  # 300 entries: 3x the limit
            writer.submit(rows(20, f"{start} "))
            wait_for(lambda: writer._queued == 0, what="the writer to catch up")
        total = 300
        wait_for(lambda: metric(exposition(metrics), "newsapi_cache_disk_writes_total") == total)
    finally:
        writer.stop()
        writer.disk.close()
        done.set()
        sampler.join()
    assert len(sizes) > 10
    assert max(sizes) <= 1.25 * limit, max(sizes)
    assert disk_usage(folder) <= 1.25 * limit


def test_the_writer_waits_while_a_request_is_in_flight(tmp_path: Path) -> None:
    """A write never takes the GIL from a request: answers wait in the queue while the
    worker has requests in flight, and are written once it has been quiet for a moment."""
    metrics = Metrics()
    writer = writer_for(tmp_path / "cache", 2**20, 2**20, metrics)
    activity = Activity()

    def written() -> float:
        return metric(exposition(metrics), "newsapi_cache_disk_writes_total")

    writer.start(quiet=activity.quiet_for, quiet_seconds=0.005)
    try:
        activity.begin()
        activity.begin()  # two requests in flight
        writer.submit(rows(16))
        activity.end()
        time.sleep(0.5)
        assert written() == 0  # one still in flight: queued, not written
        activity.end()
        wait_for(lambda: written() == 16, what="the writes once no request is in flight")
    finally:
        writer.stop()
    assert metric(exposition(metrics), "newsapi_cache_disk_writes_dropped_total") == 0


def test_a_busy_worker_is_looked_at_less_and_less_often(tmp_path: Path) -> None:
    """While requests stay in flight, the writer looks after 5, 10, 20... ms, at most 100 ms
    apart (it used to look every 5 ms: ~200 times a second, each taking the GIL)."""
    metrics = Metrics()
    writer = writer_for(tmp_path / "cache", 2**20, 2**20, metrics)
    activity = Activity()
    looks = 0

    def quiet_for() -> float:
        nonlocal looks
        looks += 1
        return activity.quiet_for()

    writer.start(quiet=quiet_for, quiet_seconds=0.005)
    try:
        activity.begin()
        writer.submit(rows(8))
        time.sleep(1.0)
        busy_looks = looks
        activity.end()
        wait_for(
            lambda: metric(exposition(metrics), "newsapi_cache_disk_writes_total") == 8,
            what="the writes once the request ended",
        )
    finally:
        writer.stop()
    assert 2 <= busy_looks <= 25  # 5 + 10 + 20 + 40 + 80 ms, then every 100 ms: ~14 in 1 s
