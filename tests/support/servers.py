"""Real uvicorn servers as processes: start one on a free port, wait until it is ready, stop
it, read its log and its metrics."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.support.files import ROOT


def free_port() -> int:
    """A local TCP port nothing listens on (at the time of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


CLEAN_EXIT = {0, -signal.SIGTERM}


@dataclass
class Server:
    """A uvicorn process on a free local port."""

    process: subprocess.Popen[str]
    url: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, wait; returns the exit code (kills and fails after ``timeout``).

        After a graceful shutdown uvicorn re-raises the signal, so a clean stop is 0 or
        -SIGTERM (see :data:`CLEAN_EXIT`)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                pytest.fail(f"server did not stop within {timeout}s:\n{self.log()[-3000:]}")
        return self.process.returncode


def launch(
    tmp_path: Path, env: dict[str, str], workers: int = 1, extra_path: str | None = None
) -> Server:
    """Start ``uvicorn newsapi.app:app`` without waiting for it."""
    port = free_port()
    full_env = {**os.environ, **env}
    if extra_path:
        full_env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [extra_path, full_env.get("PYTHONPATH")])
        )
    log_path = tmp_path / f"server-{port}.log"
    handle = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "newsapi.app:app", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--no-access-log",
         "--timeout-worker-healthcheck", "60",
         "--http", "newsapi.http.connections:HeaderTimeoutProtocol"],
        cwd=ROOT, env=full_env, stdout=handle, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    return Server(process, f"http://127.0.0.1:{port}", log_path, env)


def wait_ready(server: Server, timeout: float = 90.0) -> None:
    """Poll ``/readyz`` until it answers 200; fail with the log if the server exits or
    ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"server exited with {server.process.returncode}:\n{server.log()[-3000:]}")
        try:
            if httpx.get(f"{server.url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    server.stop()
    pytest.fail(f"server not ready within {timeout}s:\n{server.log()[-3000:]}")


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` with these labels (any value of the others) in a
    Prometheus exposition; 0 when there is none."""
    from prometheus_client.parser import text_string_to_metric_families

    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += float(sample.value)
    return total


def computed(text: str) -> float:
    """The texts the model computed according to a ``/metrics`` exposition: in the model
    thread, or on the event loop (a short text that found its worker otherwise idle)."""
    return sum(
        metric(text, "newsapi_predictions_total", endpoint=path) for path in ("model", "inline")
    )


def wait_for(condition: Callable[[], bool], timeout: float = 15.0, what: str = "condition") -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` (a bound, not a measurement)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout}s")
        time.sleep(0.02)
