"""The cache through the app: keys by model version, write-behind and every disk fault."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from newsapi.model.artifact import Artifact
from newsapi.serving.cache.writer import QUEUE_ENTRY_BYTES
from newsapi.settings import MODEL_FILENAME, Settings
from tests.support import metric, train_tiny, wait_for

SPACE = "the rocket will launch a satellite into orbit"
# A text too long to be computed on the event loop: a single one that misses the memory tier
# is looked up in the disk tier (shorter ones are computed, cheaper than reading them)
LONG_SPACE = " ".join([SPACE] * (Settings().batching.inline_max_chars // len(SPACE) + 1))


def written(client: TestClient) -> float:
    return metric(client.get("/metrics").text, "newsapi_cache_disk_writes_total")


def faults(client: TestClient, kind: str) -> float:
    return metric(client.get("/metrics").text, "newsapi_cache_faults_total", kind=kind)


def entries(cache_dir: Path) -> list[Path]:
    return list(cache_dir.rglob("output.pkl"))


def test_results_reach_the_disk_behind_the_response(client: TestClient, tmp_path: Path) -> None:
    assert client.post("/prediction", json={"text": SPACE}).headers["x-cache"] == "miss"
    wait_for(lambda: written(client) >= 1, what="the disk write")
    assert len(entries(tmp_path / "cache")) == 1


def test_disk_tier_survives_a_restart(
    client_for: Callable[..., TestClient], tiny_model: Artifact, tmp_path: Path
) -> None:
    first = client_for(tiny_model.path)
    first.post("/prediction", json={"text": LONG_SPACE})
    wait_for(lambda: written(first) >= 1, what="the disk write")
    second = client_for(tiny_model.path)  # same cache folder, empty memory tier
    response = second.post("/prediction", json={"text": LONG_SPACE})
    assert response.json() == {"category": "space"}
    assert response.headers["x-cache"] == "hit"
    assert metric(second.get("/metrics").text, "newsapi_cache_hits_total", tier="disk") == 1


def test_a_short_lone_text_is_computed_rather_than_read_from_disk(
    client_for: Callable[..., TestClient], tiny_model: Artifact
) -> None:
    first = client_for(tiny_model.path)
    first.post("/prediction", json={"text": SPACE})
    wait_for(lambda: written(first) >= 1, what="the disk write")
    second = client_for(tiny_model.path)  # the entry is on disk, not in memory
    response = second.post("/prediction", json={"text": SPACE})
    assert response.json() == {"category": "space"}
    assert response.headers["x-cache"] == "miss"
    text = second.get("/metrics").text
    assert metric(text, "newsapi_cache_hits_total", tier="disk") == 0
    assert metric(text, "newsapi_predictions_total", endpoint="inline") == 1
    # with the event-loop path turned off, the same request reads the disk tier
    third = client_for(tiny_model.path, inline_max_chars=0)
    assert third.post("/prediction", json={"text": SPACE}).headers["x-cache"] == "hit"


def test_a_new_model_never_gets_old_answers(
    client_for: Callable[..., TestClient], tmp_path: Path
) -> None:
    path = tmp_path / "model" / MODEL_FILENAME
    old = train_tiny(path)
    first = client_for(path)
    assert first.post("/prediction", json={"text": SPACE}).json() == {"category": "space"}
    wait_for(lambda: written(first) >= 1, what="the disk write")
    # retrain with other hyperparameters into the same file: a new model version
    new = train_tiny(path, classifier="multinomial_nb", alpha=0.5)
    assert new.model_version != old.model_version
    second = client_for(path)
    response = second.post("/prediction", json={"text": SPACE})
    assert response.headers["x-model-version"] == new.model_version
    assert response.headers["x-cache"] == "miss"  # the old entry is not this model's


def test_delete_cache_empties_both_tiers(client: TestClient, tmp_path: Path) -> None:
    client.post("/prediction", json={"text": SPACE})
    wait_for(lambda: written(client) >= 1, what="the disk write")
    assert client.delete("/cache").status_code == 204
    assert entries(tmp_path / "cache") == []
    assert client.post("/prediction", json={"text": SPACE}).headers["x-cache"] == "miss"


def test_cache_folder_deleted_while_serving(client: TestClient, tmp_path: Path) -> None:
    client.post("/prediction", json={"text": SPACE})
    wait_for(lambda: written(client) >= 1, what="the disk write")
    shutil.rmtree(tmp_path / "cache")
    texts = [f"rocket orbit number {i}" for i in range(20)]
    for text in texts:
        assert client.post("/prediction", json={"text": text}).json() == {"category": "space"}
    wait_for(lambda: written(client) >= 21, what="writes into a recreated folder")
    assert len(entries(tmp_path / "cache")) == 20


def test_unwritable_cache_degrades_to_computing(
    client_for: Callable[..., TestClient],
    tiny_model: Artifact,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    client = client_for(tiny_model.path, cache_dir=blocker / "cache")  # cannot be created
    for i in range(30):
        response = client.post("/prediction", json={"text": f"{SPACE} {i}"})
        assert response.status_code == 200
        assert response.json() == {"category": "space"}
    wait_for(lambda: faults(client, "write") >= 2, what="counted write faults")
    assert faults(client, "unavailable") == 1
    assert client.delete("/cache").status_code == 204  # clearing a broken cache still answers
    assert caplog.text.count("disk cache fault (write)") == 1  # logged once, counted always


def test_cache_folder_turned_into_a_file_while_serving(client: TestClient, tmp_path: Path) -> None:
    client.post("/prediction", json={"text": SPACE})
    wait_for(lambda: written(client) >= 1, what="the disk write")
    shutil.rmtree(tmp_path / "cache")
    (tmp_path / "cache").write_text("in the way")
    for i in range(10):
        assert client.post("/prediction", json={"text": f"orbit {i}"}).status_code == 200
    wait_for(lambda: faults(client, "write") >= 1, what="a counted write fault")


def test_corrupt_entries_are_misses(
    client_for: Callable[..., TestClient], tiny_model: Artifact, tmp_path: Path
) -> None:
    first = client_for(tiny_model.path)
    texts = [f"{LONG_SPACE} {i}" for i in range(5)]
    for text in texts:
        first.post("/prediction", json={"text": text})
    wait_for(lambda: written(first) >= 5, what="the disk writes")
    for pickle in entries(tmp_path / "cache"):
        pickle.write_bytes(b"\x80\x04garbage")
    second = client_for(tiny_model.path)
    for text in texts:
        response = second.post("/prediction", json={"text": text})
        assert response.json() == {"category": "space"}
        assert response.headers["x-cache"] == "miss"
    assert faults(second, "read") == 5
    # the bad entries were replaced by good ones
    wait_for(lambda: written(second) >= 5, what="rewrites")
    third = client_for(tiny_model.path)
    assert third.post("/prediction", json={"text": texts[0]}).headers["x-cache"] == "hit"


def test_full_write_queue_drops_instead_of_waiting(
    client_for: Callable[..., TestClient], tiny_model: Artifact
) -> None:
    client = client_for(tiny_model.path, cache_write_queue_bytes=5 * QUEUE_ENTRY_BYTES)
    response = client.post("/predictions", json={"texts": [f"orbit {i}" for i in range(50)]})
    assert response.status_code == 200
    text = client.get("/metrics").text
    assert metric(text, "newsapi_cache_disk_writes_dropped_total") == 50
