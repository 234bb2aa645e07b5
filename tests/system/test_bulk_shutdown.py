"""The bulk process and a graceful shutdown: a real ``newsapi serve`` stopped with SIGTERM while
its bulk child is still starting waits for that child and leaves nothing behind (no orphan,
no leaked semaphore); once stopping has begun, no child starts (the second test drives the
bulk process itself, in this process, to hold it in that moment)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from newsapi.model.artifact import Artifact
from newsapi.serving.bulk import BulkProcess
from tests.support import CLEAN_EXIT, children, exited, wait_for
from tests.support.serve_command import start_serve

pytestmark = pytest.mark.server
TEXTS = [f"rocket orbit launch {i}" for i in range(100)]


def bulk_children(worker: int) -> list[int]:
    """The worker's children started by multiprocessing's spawn: its bulk child (the
    resource tracker is started another way)."""
    found = []
    for pid in children(worker):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"spawn_main" in command:
            found.append(pid)
    return found


def test_sigterm_while_the_bulk_child_starts_waits_for_it_and_leaks_nothing(
    tmp_path: Path, tiny_model: Artifact
) -> None:
    env = {
        "NEWSAPI_MODEL_PATH": str(tiny_model.path),
        "NEWSAPI_CACHE_DIR": str(tmp_path / "cache"),
        "NEWSAPI_BULK_PROCESS_MIN_TEXTS": "2",
    }
    server = start_serve(tmp_path, env, "--workers", "1")
    worker = server.process.pid  # with one worker, newsapi serve is the worker
    try:
        # a large call: answered by the model thread, and it starts the bulk child
        answer = httpx.post(f"{server.url}/predictions", json={"texts": TEXTS})
        assert answer.status_code == 200
        wait_for(lambda: len(bulk_children(worker)) == 1, 30, "the bulk child spawned")
        (child,) = bulk_children(worker)
        os.kill(child, signal.SIGSTOP)  # held in the middle of its start
        try:
            assert "bulk process" not in server.log()  # not ready yet
            server.process.send_signal(signal.SIGTERM)
            time.sleep(1.0)  # the worker shuts down meanwhile
        finally:
            os.kill(child, signal.SIGCONT)
        code = server.process.wait(90)
        # the worker waited for its child: it was gone before the worker ended
        assert exited(child)
    finally:
        server.stop()
    assert code in CLEAN_EXIT
    # multiprocessing's resource tracker says so when it outlives the semaphores of a pool
    # whose owner ended without shutting it down; give it the time to say it
    time.sleep(2.0)
    log = server.log()
    assert "leaked" not in log, log[-2000:]
    assert "Traceback" not in log


def test_stop_waits_for_a_starting_child_and_nothing_starts_meanwhile(
    tiny_model: Artifact,
) -> None:
    async def main() -> None:
        bulk = BulkProcess(chunk_chars=8192)
        assert bulk.ready_for(tiny_model.model_version, tiny_model.pipeline) is None
        assert bulk.starting  # a child is being started for the served model
        for _ in range(600):
            if bulk_children(os.getpid()):
                break
            await asyncio.sleep(0.05)
        (child,) = bulk_children(os.getpid())
        os.kill(child, signal.SIGSTOP)  # held in the middle of its start
        try:
            stopping = asyncio.create_task(bulk.stop())
            await asyncio.sleep(0.5)
            assert not stopping.done()  # stop() waits for the child it started
            # stopping has begun: nothing starts, for this model or another
            for version in (tiny_model.model_version, "another"):
                assert bulk.ready_for(version, tiny_model.pipeline) is None
                assert not bulk.starting
        finally:
            os.kill(child, signal.SIGCONT)
        await asyncio.wait_for(stopping, 90)
        assert exited(child)
        assert bulk.pid is None
        assert bulk_children(os.getpid()) == []

    asyncio.run(main())
