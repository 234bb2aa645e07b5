"""``newsapi serve`` as a user runs it, twice on one machine: a second server on a busy port
refuses before loading or writing anything, and each server's metrics live in a folder of its
own that no other start removes while the server lives."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from newsapi.model.artifact import Artifact
from tests.support import CLEAN_EXIT, Server, metric, newsapi

pytestmark = pytest.mark.server


def predictions_counted(server: Server) -> float:
    scrape = httpx.get(f"{server.url}/metrics").text
    return metric(scrape, "newsapi_http_requests_total", route="/prediction")


def ask(server: Server, count: int) -> None:
    for i in range(count):  # a new connection each: the kernel spreads them over workers
        answer = httpx.post(f"{server.url}/prediction", json={"text": f"rocket orbit {i}"})
        assert answer.status_code == 200


def test_a_second_server_on_a_busy_port_refuses_before_touching_anything(
    serve: Callable[..., Server], tiny_model: Artifact, tmp_path: Path
) -> None:
    parent = tmp_path / "metrics"
    first = serve("--workers", "2", "--metrics-dir", str(parent))
    own = parent / str(first.process.pid)
    ask(first, 20)
    assert predictions_counted(first) == 20
    before = sorted(path.name for path in own.iterdir())
    port = first.url.rpartition(":")[2]

    second = newsapi(
        "serve", "--port", port, "--metrics-dir", str(parent),
        env={"NEWSAPI_MODEL_PATH": str(tiny_model.path)},
    )  # fmt: skip

    assert second.returncode == 3
    assert second.stderr == (
        f"newsapi: cannot start: port {port} is in use; choose another with --port "
        "(make serve PORT=...)\n"
    )
    assert second.stdout == ""  # no model loaded, no worker started
    # the first server's folder is untouched, and it counts on
    assert sorted(path.name for path in parent.iterdir()) == [own.name]
    assert sorted(path.name for path in own.iterdir()) == before
    assert predictions_counted(first) == 20
    ask(first, 5)
    assert predictions_counted(first) == 25


def test_a_host_it_cannot_listen_on_is_one_line_before_the_model_loads(
    tiny_model: Artifact,
) -> None:
    out = newsapi(
        "serve", "--host", "192.0.2.1", "--port", "8000",  # TEST-NET-1: no local address
        env={"NEWSAPI_MODEL_PATH": str(tiny_model.path)},
    )  # fmt: skip
    assert out.returncode == 3
    assert out.stderr.startswith("newsapi: cannot start: cannot listen on 192.0.2.1:8000: ")
    assert out.stderr.count("\n") == 1
    assert out.stdout == ""


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    finished = subprocess.Popen(["true"])
    finished.wait()
    return finished.pid


@pytest.mark.parametrize("workers", ["1", "2"])
def test_each_start_has_its_own_metrics_folder_and_removes_only_those_of_gone_servers(
    serve: Callable[..., Server], tmp_path: Path, workers: str
) -> None:
    parent = tmp_path / "metrics"
    gone, living, other = parent / str(dead_pid()), parent / "1", parent / "notes"
    for folder in (gone, living, other):  # pid 1 lives as long as the machine does
        folder.mkdir(parents=True)
        (folder / "counter_7.db").write_bytes(b"kept?")

    server = serve("--workers", workers, "--metrics-dir", str(parent))

    own = parent / str(server.process.pid)
    assert sorted(path.name for path in parent.iterdir()) == sorted(
        [own.name, living.name, other.name]
    )
    assert (living / "counter_7.db").read_bytes() == b"kept?"
    assert any(own.glob("counter_*.db"))  # the workers write there...
    ask(server, 12)
    assert predictions_counted(server) == 12  # ...and /metrics reads every one of them
    log = server.log()
    assert "Clearing labels" not in log  # prometheus_client's warning at each start
    assert "UserWarning" not in log
    assert server.stop() in CLEAN_EXIT
    assert not own.exists()  # its own folder goes with it
    assert living.exists()
    assert other.exists()
