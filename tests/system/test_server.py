"""Real uvicorn processes over real HTTP: workers, the shared disk cache, start-up refusals,
the event loop staying free, and clean shutdown."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from newsapi.model.artifact import Artifact, manifest_path
from newsapi.settings import MODEL_FILENAME, Settings
from tests.support import CLEAN_EXIT, Server, launch, metric, steps, train_slow, wait_for

pytestmark = pytest.mark.server

TEXTS = [f"the rocket number {i} will launch a satellite into orbit" for i in range(40)]
# Texts too long to be computed on the event loop (NEWSAPI_INLINE_MAX_CHARS): a lone one that
# misses the memory tier is looked up in the disk tier
LONG_TEXTS = [" ".join([text] * 25) for text in TEXTS]


def ask_concurrently(url: str, texts: list[str]) -> list[httpx.Response]:
    with httpx.Client(base_url=url, timeout=30) as http, ThreadPoolExecutor(16) as pool:
        return list(pool.map(lambda t: http.post("/prediction", json={"text": t}), texts))


def test_two_workers_share_the_disk_cache_and_stop_cleanly(
    start_server: Callable[..., Server], tiny_model: Artifact, tmp_path: Path
) -> None:
    first = start_server(tiny_model.path, workers=2)
    assert min(map(len, LONG_TEXTS)) > Settings().batching.inline_max_chars
    answers = ask_concurrently(first.url, LONG_TEXTS)
    assert all(r.status_code == 200 for r in answers)
    assert {r.json()["category"] for r in answers} == {"space"}
    assert {r.headers["x-model-version"] for r in answers} == {tiny_model.model_version}
    assert {r.headers["x-cache"] for r in answers} == {"miss"}
    cache = tmp_path / "cache"
    wait_for(lambda: len(list(cache.rglob("output.pkl"))) == len(LONG_TEXTS), what="disk entries")
    assert first.stop() in CLEAN_EXIT
    log = first.log()
    assert log.count("Finished server process") == 2
    assert "Traceback" not in log

    # New workers, empty memory tiers: every answer comes from the shared disk tier. (One
    # request at a time: model calls of more than NEWSAPI_DISK_READ_MAX_BATCH texts skip the
    # disk, where a batched prediction is cheaper than a lookup; so do short lone texts.)
    second = start_server(tiny_model.path, workers=2)
    with httpx.Client(base_url=second.url, timeout=30) as http:
        again = [http.post("/prediction", json={"text": text}) for text in LONG_TEXTS]
    assert {r.headers["x-cache"] for r in again} == {"hit"}
    assert {r.json()["category"] for r in again} == {"space"}
    assert second.stop() in CLEAN_EXIT


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("missing", "does not exist; run `make train`"),
        ("tampered", "does not match the sha256"),
        ("no-manifest", "manifest"),
        ("other-sklearn", "written by scikit-learn 0.24.2"),
    ],
)
def test_bad_artifact_refuses_to_start_with_one_line(
    model_copy: Path, tmp_path: Path, damage: str, message: str
) -> None:
    if damage == "missing":
        model_copy.unlink()
    elif damage == "tampered":
        model_copy.write_bytes(model_copy.read_bytes()[:-10] + b"0123456789")
    elif damage == "no-manifest":
        manifest_path(model_copy).unlink()
    else:
        manifest = json.loads(manifest_path(model_copy).read_text())
        manifest["versions"]["scikit-learn"] = "0.24.2"
        manifest_path(model_copy).write_text(json.dumps(manifest))
    server = launch(tmp_path, {"NEWSAPI_MODEL_PATH": str(model_copy)})
    code = server.process.wait(30)
    log = server.log()
    assert code == 3  # uvicorn's code for a failed start-up (with one worker)
    assert "Traceback" not in log
    [line] = [line for line in log.splitlines() if "newsapi cannot start" in line]
    assert message in line
    assert str(model_copy) in line


def test_version_mismatch_can_be_allowed(
    start_server: Callable[..., Server], model_copy: Path
) -> None:
    manifest = json.loads(manifest_path(model_copy).read_text())
    manifest["versions"]["scikit-learn"] = "0.24.2"
    manifest_path(model_copy).write_text(json.dumps(manifest))
    server = start_server(model_copy, NEWSAPI_ALLOW_VERSION_MISMATCH="true")
    assert httpx.post(f"{server.url}/prediction", json={"text": TEXTS[0]}).status_code == 200
    assert "written by scikit-learn 0.24.2" in server.log()


def test_event_loop_stays_free_during_a_slow_prediction(
    client_for: Callable[..., TestClient], tmp_path: Path
) -> None:
    slow = train_slow(tmp_path / "slow" / MODEL_FILENAME)
    client = client_for(slow.path)
    assert client.post("/prediction", json={"text": TEXTS[0]}).status_code == 200  # cached now
    steps.HOLDING.clear()
    steps.RELEASE.clear()
    answers: list[httpx.Response] = []
    worker = threading.Thread(
        target=lambda: answers.append(client.post("/prediction", json={"text": "slow rocket"}))
    )
    worker.start()
    try:
        assert steps.HOLDING.wait(10), "the slow prediction never reached the model"
        # the model thread is busy; the event loop is not
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200
        assert client.post("/prediction", json={"text": TEXTS[0]}).headers["x-cache"] == "hit"
        assert worker.is_alive()
        assert not answers
    finally:
        steps.RELEASE.set()
        worker.join(30)
    assert answers[0].json() == {"category": "space"}


def test_sigterm_lets_requests_in_flight_finish(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    slow = train_slow(tmp_path / "slow" / MODEL_FILENAME)
    marker = tmp_path / "holding"
    server = start_server(
        slow.path, NEWSAPI_TEST_HOLD_MARKER=str(marker), NEWSAPI_TEST_HOLD_SECONDS="2"
    )
    with ThreadPoolExecutor(4) as pool:
        pending = [
            pool.submit(
                httpx.post, f"{server.url}/prediction", json={"text": f"slow {i}"}, timeout=30
            )
            for i in range(4)
        ]
        wait_for(marker.exists, what="a held prediction")

        def all_in_flight() -> bool:  # each one looked in the memory tier: it is being served
            scrape = httpx.get(f"{server.url}/metrics").text
            return metric(scrape, "newsapi_cache_misses_total", tier="memory") == 4

        wait_for(all_in_flight, what="all four requests in flight")
        assert server.stop() in CLEAN_EXIT
        answers = [future.result() for future in pending]
    assert [r.status_code for r in answers] == [200] * 4
    assert "Traceback" not in server.log()
