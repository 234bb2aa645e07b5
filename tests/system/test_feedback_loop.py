"""The whole feedback loop, as an operator and a data scientist run it, with the real commands
and a real server: train and serve a model with the prediction log on (texts kept), send it
held-out posts, label its answers through ``POST /feedback``, export the labels, train on the
corpus plus them with the same test split, compare the two runs, promote the new one, and the
server serves it. The posts are made-up sentences (no byte of the real corpus)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from newsapi.model.params import TrainingParameters
from newsapi.serving.predlog import read_log
from newsapi.serving.predlog.feedback import read_feedback
from newsapi.store.catalog import ModelStore
from newsapi.training.run import corpus_for, train_and_store
from tests.support import Server, newsapi, topic_sentences, wait_for, write_csv

pytestmark = pytest.mark.server

TOKEN = "loop-token-0123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def train(root: Path, *args: str) -> str:
    """``newsapi train`` into the store ``root`` (no runs page: not what is tested); the new
    model's version."""
    out = newsapi("train", "--artifacts", str(root), "--no-index", *args)
    assert out.returncode == 0, out.stderr[-3000:]
    found = re.search(r"model ([0-9a-f]{12})", out.stdout)
    assert found is not None, out.stdout
    return found.group(1)


def test_serve_log_label_export_train_compare_promote(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    root, folder = tmp_path / "artifacts", tmp_path / "log"
    corpus = write_csv(tmp_path / "own.csv", topic_sentences(30))
    # the first run in-process (what `newsapi train` stores, without its notebooks' time)
    params = TrainingParameters.build({"dataset": str(corpus)})
    store = ModelStore(root)
    first = train_and_store(store, params, corpus_for(params)).version
    store.promote(first)
    server = start_server(
        root / "newsgroups_model.joblib",
        NEWSAPI_PREDICTION_LOG_DIR=str(folder),
        NEWSAPI_PREDICTION_LOG_TEXT="true",
        NEWSAPI_PREDICTION_LOG_FILE_SECONDS="1",
        NEWSAPI_ADMIN_TOKEN=TOKEN,
    )
    # held-out posts (another draw of the same topics), labelled by their request ids
    held_out = topic_sentences(4, seed=7)
    for text, label in held_out:
        answer = httpx.post(f"{server.url}/prediction", json={"text": text})
        assert answer.status_code == 200
        body = {"request_id": answer.headers["x-request-id"], "label": label}
        response = httpx.post(f"{server.url}/feedback", json=body, headers=AUTH)
        assert response.status_code == 201, response.text
        assert response.json()["model_version"] == first
    wait_for(lambda: read_feedback(folder).num_rows == len(held_out), what="the feedback files")
    # the export reads the log's files, and the last answers' file is written within a second
    wait_for(lambda: read_log(folder).num_rows == len(held_out), what="the log's files")

    labelled = tmp_path / "labelled.csv"
    out = newsapi("feedback", "export", "--output", str(labelled), "--log-dir", str(folder))
    assert out.returncode == 0, out.stderr
    count = len(held_out)
    assert out.stdout == f"wrote {count} labelled texts to {labelled} ({count} feedback records)\n"

    second = train(root, "-p", "dataset", str(corpus), "-p", "extra_train", str(labelled),
                   "--no-promote")  # fmt: skip
    assert second != first
    old, new = store.get(first), store.get(second)
    assert old is not None
    assert new is not None
    # the same test split: the two runs are compared on the same posts
    old_counts, new_counts = old.manifest["dataset"]["counts"], new.manifest["dataset"]["counts"]
    assert new_counts["test"] == old_counts["test"]
    assert sum(new_counts["train"].values()) == sum(old_counts["train"].values()) + count
    assert new.manifest["dataset"]["extra_train"]["rows"] == count

    out = newsapi("compare", first, second, "--artifacts", str(root))
    assert out.returncode == 0, out.stderr
    assert f"A = {first}   B = {second}" in out.stdout
    assert f'  extra_train   null -> "{labelled}"' in out.stdout
    assert "accuracy" in out.stdout

    out = newsapi("promote", second, "--artifacts", str(root))
    assert out.returncode == 0, out.stderr
    assert f"model {second} is now promoted (was {first})" in out.stdout
    reloaded = httpx.post(f"{server.url}/admin/reload", headers=AUTH)
    assert reloaded.status_code == 200, reloaded.text
    assert httpx.get(f"{server.url}/model").json()["model_version"] == second
    answer = httpx.post(f"{server.url}/prediction", json={"text": held_out[0][0]})
    assert answer.headers["x-model-version"] == second
    assert "Traceback" not in server.log()
