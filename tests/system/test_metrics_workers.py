"""/metrics across workers that die: two real uvicorn workers sharing a prometheus_client
multiprocess folder, killed with SIGKILL again and again (uvicorn's supervisor starts new
ones). The live gauges return to their true value, counts are never lost, the folder stays
bounded, and the model version reported is one a live worker serves."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack
from functools import partial
from pathlib import Path

import httpx
import pytest

from newsapi.model.artifact import Artifact
from newsapi.settings import MODEL_FILENAME
from tests.support import Server, computed, metric, train_tiny, wait_for, worker_pids
from tests.support.serve_command import start_serve

pytestmark = pytest.mark.server
ROUNDS = 4
LENGTH = 1_000_000  # the body each trickling client announces; it sends only the start
SENT = 100_000


def workers(supervisor: int) -> set[int]:
    """uvicorn's live workers (a worker reaped while being listed: look again)."""
    while True:
        with contextlib.suppress(FileNotFoundError):
            return set(worker_pids(supervisor))


def replaced(server: Server, killed: set[int], started: int) -> bool:
    """Two workers run, none of them ``killed``, and ``started`` workers have finished their
    start-up since the server started."""
    new = workers(server.process.pid) - killed
    return len(new) == 2 and server.log().count("Application startup complete") >= started


def scrape(server: Server) -> str:
    return httpx.get(f"{server.url}/metrics").text


def versions(text: str) -> dict[str, float]:
    from prometheus_client.parser import text_string_to_metric_families

    return {
        sample.labels["model_version"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "newsapi_model_info"
    }


@contextlib.contextmanager
def trickling(server: Server, clients: int) -> Iterator[list[socket.socket]]:
    """``clients`` connections that each sent the start of a large body and wait."""
    host, port = server.url.removeprefix("http://").split(":")
    with ExitStack() as stack:
        socks = []
        for _ in range(clients):
            sock = stack.enter_context(socket.create_connection((host, int(port)), timeout=30))
            head = (
                f"POST /prediction HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json"
                f"\r\ncontent-length: {LENGTH}\r\n\r\n"
            ).encode()
            sock.sendall(head + b'{"text": "' + b"x" * 1000)
            time.sleep(0.05)  # the rest in another piece: the body arrives in several
            sock.sendall(b"x" * (SENT - 1000))
            socks.append(sock)
        yield socks


@pytest.mark.timeout(600)
def test_killed_workers_leave_no_gauge_no_stale_version_and_a_bounded_folder(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    model = tmp_path / "served" / MODEL_FILENAME
    model.parent.mkdir()
    first = train_tiny(model)
    env = {
        "NEWSAPI_MODEL_PATH": str(model),
        "NEWSAPI_CACHE_DIR": str(tmp_path / "cache"),
        "NEWSAPI_BODY_TIMEOUT": "600",
        "PROMETHEUS_MULTIPROC_DIR": str(folder),  # as a deployment sets it
        # uvicorn's supervisor waits this long on a worker killed while it pinged it
        "NEWSAPI_WORKER_HEALTHCHECK_TIMEOUT": "15",
    }
    server = start_serve(tmp_path, env, "--workers", "2")
    try:
        check_rounds(server, folder, model, first)
    finally:
        server.stop()


def check_rounds(server: Server, folder: Path, model: Path, first: Artifact) -> None:
    live = workers(server.process.pid)
    assert len(live) == 2
    served, answered = first.model_version, 0
    for round_ in range(ROUNDS):
        for i in range(10):
            response = httpx.post(f"{server.url}/prediction", json={"text": f"orbit {round_} {i}"})
            assert response.status_code == 200
            answered += 1
        with trickling(server, 4):
            wait_for(
                lambda: metric(scrape(server), "newsapi_request_body_bytes_held") >= SENT,
                what="bodies held",
            )
            if round_ == 1:  # the next workers start with another model
                served = train_tiny(model, alpha=0.5).model_version
                assert served != first.model_version
            killed = live
            for pid in killed:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            started = 2 * (round_ + 2)  # the first two, and two more per round
            wait_for(partial(replaced, server, killed, started), 180, "two new workers")
            live = workers(server.process.pid)
        text = scrape(server)
        # nobody holds a body now: the dead workers' share is gone
        assert metric(text, "newsapi_request_body_bytes_held") == 0
        # only what the live workers serve
        assert versions(text) == {served: 1.0}
        # the dead workers' counts are kept, each request counted once
        assert metric(text, "newsapi_http_requests_total", route="/prediction") == answered
        assert computed(text) == answered
        # bounded: the live workers' files and one file per kind for every dead worker
        files = sorted(p.name for p in folder.iterdir())
        assert len(files) <= 4 * 2 + 3, files
