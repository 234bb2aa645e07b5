"""The bulk process of a real uvicorn worker: a large call starts it as the worker's child, and
it exits by itself when its worker is killed, even while it is still starting."""

from __future__ import annotations

import contextlib
import os
import re
import signal
from collections.abc import Callable
from pathlib import Path

import httpx

from newsapi.model.artifact import Artifact
from tests.support import (
    Server,
    children,
    exited,
    metric,
    mixed_sentences,
    predicted_names,
    process_state,
    wait_for,
)


def test_the_bulk_process_never_outlives_its_worker(
    tiny_model: Artifact, start_server: Callable[..., Server]
) -> None:
    server = start_server(tiny_model.path)
    worker = server.process.pid
    texts = mixed_sentences(100, 1)
    answer = httpx.post(f"{server.url}/predictions", json={"texts": texts}, timeout=30)
    assert answer.status_code == 200
    assert answer.json()["categories"] == predicted_names(tiny_model, texts)
    started = re.compile(r"bulk process (\d+) started for model " + tiny_model.model_version)
    wait_for(lambda: started.search(server.log()) is not None, 60, "the bulk process")
    match = started.search(server.log())
    assert match
    child = int(match.group(1))
    found = process_state(child)
    assert found is not None
    assert found[1] == worker
    texts = mixed_sentences(100, 2)
    answer = httpx.post(f"{server.url}/predictions", json={"texts": texts}, timeout=30)
    assert answer.json()["categories"] == predicted_names(tiny_model, texts)
    # the model thread was idle: it computed both calls (a call computed by the child of a
    # busy thread is tests/serving/test_bulk.py's)
    scrape = httpx.get(f"{server.url}/metrics").text
    assert metric(scrape, "newsapi_predictions_total", endpoint="model") == 200
    os.kill(worker, signal.SIGKILL)  # no shutdown runs in the worker
    server.process.wait(10)
    wait_for(lambda: exited(child), timeout=10, what="the orphaned child's exit")


def test_a_child_still_starting_when_its_worker_is_killed_exits(
    tiny_model: Artifact, start_server: Callable[..., Server]
) -> None:
    server = start_server(tiny_model.path)
    worker = server.process.pid
    before = set(children(worker))
    texts = mixed_sentences(100, 1)
    answer = httpx.post(f"{server.url}/predictions", json={"texts": texts}, timeout=30)
    assert answer.status_code == 200

    def spawned() -> list[int]:  # multiprocessing's spawned children, not its resource tracker
        found = []
        for pid in set(children(worker)) - before:
            with contextlib.suppress(OSError):
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
                if b"spawn_main" in command and b"resource_tracker" not in command:
                    found.append(pid)
        return found

    wait_for(lambda: bool(spawned()), timeout=30, what="the bulk process's spawn")
    (child,) = spawned()
    assert "bulk process" not in server.log()  # spawned a moment ago: still starting
    os.kill(worker, signal.SIGKILL)
    server.process.wait(10)
    wait_for(lambda: exited(child), timeout=15, what="the starting child's exit")
