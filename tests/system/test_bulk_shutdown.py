"""The bulk process and a graceful shutdown: a real ``newsapi serve`` stopped with SIGTERM while
its bulk child is still starting waits for that child and leaves nothing behind (no orphan,
no leaked semaphore); once stopping has begun, no child starts (the second test drives the
bulk process itself, in this process, to hold it in that moment). A real server's graceful
wait (its requests in flight, before the app's shutdown) starts no child either: a large call
that arrives then is answered by the model thread, and a child already serving finishes its
calls and exits before the worker.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from newsapi.model.artifact import Artifact
from newsapi.serving.bulk import BulkProcess
from newsapi.settings import MODEL_FILENAME
from tests.support import CLEAN_EXIT, Server, children, exited, metric, train_slow, wait_for
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


@contextmanager
def children_seen(worker: int) -> Iterator[set[int]]:
    """Every bulk child the worker has while the block runs (looked for every 20 ms)."""
    seen: set[int] = set()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            try:
                seen.update(bulk_children(worker))
            except OSError:  # one of its threads ended meanwhile, or the worker did
                if exited(worker):
                    return
            done.wait(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        yield seen
    finally:
        done.set()
        watcher.join()


def accepting(server: Server) -> bool:
    try:
        socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), 1).close()
    except OSError:
        return False
    return True


def during_the_graceful_wait(server: Server, texts: list[str]) -> httpx.Response:
    """A large /predictions call whose body is on its way when the server gets SIGTERM, and
    arrives whole once the server has stopped accepting connections (its graceful wait)."""
    port = int(server.url.rsplit(":", 1)[1])
    body = json.dumps({"texts": texts}).encode()
    head = (
        f"POST /predictions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), 30) as late:
        late.sendall(head + body[:20])

        def reading_it() -> bool:  # the request is under way: the server waits for it
            scrape = httpx.get(f"{server.url}/metrics").text
            return metric(scrape, "newsapi_request_body_bytes_held") > 0

        wait_for(reading_it, 30, "the late call's first bytes read")
        server.process.send_signal(signal.SIGTERM)
        wait_for(lambda: not accepting(server), 30, "the graceful wait")
        late.sendall(body[20:])
        answer = b""
        while chunk := late.recv(65536):  # the server closes the connection after it
            answer += chunk
    status, _, rest = answer.partition(b"\r\n")
    _, _, content = rest.partition(b"\r\n\r\n")
    return httpx.Response(int(status.split()[1]), content=content)


def slow_server(start_server: Callable[..., Server], tmp_path: Path) -> tuple[Server, Path]:
    """One worker whose model holds a batch with "slow" in it for 3 s (in the model thread or
    in the bulk child), and whose large calls go to the bulk child from 2 texts."""
    slow = train_slow(tmp_path / "slow" / MODEL_FILENAME)
    marker = tmp_path / "holding"
    server = start_server(
        slow.path,
        NEWSAPI_BULK_PROCESS_MIN_TEXTS="2",
        NEWSAPI_TEST_HOLD_MARKER=str(marker),
        NEWSAPI_TEST_HOLD_SECONDS="3",
    )
    return server, marker


def assert_left_cleanly(server: Server, seen: set[int]) -> None:
    assert server.process.wait(60) in CLEAN_EXIT
    assert all(exited(pid) for pid in seen)  # no child outlived its worker
    time.sleep(2.0)  # the resource tracker's time to warn of leaked semaphores, if any
    log = server.log()
    assert "leaked" not in log, log[-2000:]
    assert "resource_tracker" not in log, log[-2000:]
    assert "Traceback" not in log, log[-2000:]


def test_no_bulk_child_starts_in_the_graceful_wait(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    server, marker = slow_server(start_server, tmp_path)
    with ThreadPoolExecutor(1) as pool, children_seen(server.process.pid) as seen:
        # one text (below the bulk threshold) held in the model thread: no child starts
        held = pool.submit(
            httpx.post, f"{server.url}/predictions", json={"texts": ["slow rocket"]}, timeout=60
        )
        wait_for(marker.exists, 30, "the held call")
        late = during_the_graceful_wait(server, TEXTS)
        assert held.result().status_code == 200
        assert late.status_code == 200, late.text
        assert len(late.json()["categories"]) == len(TEXTS)  # by the model thread
        assert_left_cleanly(server, seen)
    assert seen == set()
    assert "bulk process" not in server.log()


@pytest.mark.slow  # a variant of the first test's clean exit, with the child busy
def test_the_ready_child_answers_the_graceful_wait_and_exits_first(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    server, marker = slow_server(start_server, tmp_path)
    with ThreadPoolExecutor(1) as pool, children_seen(server.process.pid) as seen:
        warm = httpx.post(f"{server.url}/predictions", json={"texts": TEXTS}, timeout=60)
        assert warm.status_code == 200  # by the model thread; it starts the child
        wait_for(lambda: "bulk process" in server.log(), 60, "the bulk child ready")
        # a large call held in the child, then another one in the graceful wait
        slow = [*(f"held {text}" for text in TEXTS), "slow rocket"]
        held = pool.submit(
            httpx.post, f"{server.url}/predictions", json={"texts": slow}, timeout=60
        )
        wait_for(marker.exists, 30, "the held call")
        late = during_the_graceful_wait(server, [f"late {text}" for text in TEXTS])
        assert held.result().status_code == 200
        assert late.status_code == 200, late.text
        assert len(late.json()["categories"]) == len(TEXTS)
        assert_left_cleanly(server, seen)
    assert len(seen) == 1  # the one child, started before the signal
