"""/metrics with several workers: every request counted once, whichever worker is asked."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest, multiprocess

from newsapi.model.artifact import Artifact
from tests.support import Server, computed, metric

pytestmark = pytest.mark.server
REQUESTS = 60


def worker_count(values: Path, tmp_path: Path) -> float:
    """The /prediction requests one worker counted: its file read on its own."""
    alone = tmp_path / values.stem
    alone.mkdir()
    shutil.copy(values, alone / values.name)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(alone))  # type: ignore[no-untyped-call]
    text = generate_latest(registry).decode()
    return metric(text, "newsapi_http_requests_total", route="/prediction")


def test_two_workers_count_every_request_once(
    start_server: Callable[..., Server], tiny_model: Artifact, tmp_path: Path
) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    server = start_server(tiny_model.path, workers=2, PROMETHEUS_MULTIPROC_DIR=str(folder))
    for i in range(REQUESTS):  # a new connection each: the kernel spreads them over workers
        answer = httpx.post(f"{server.url}/prediction", json={"text": f"rocket orbit {i}"})
        assert answer.status_code == 200
    # both workers answered some of them (each writes its own file of values)...
    shares = [worker_count(path, tmp_path) for path in sorted(folder.glob("counter_*.db"))]
    assert len(shares) == 2
    assert all(share > 0 for share in shares), shares
    assert sum(shares) == REQUESTS
    # ...and any scrape, whichever worker answers it, counts every request exactly once
    for _ in range(6):
        text = httpx.get(f"{server.url}/metrics").text
        assert metric(text, "newsapi_http_requests_total", route="/prediction") == REQUESTS
        assert computed(text) == REQUESTS
