"""The answers of ``newsapi score`` are exactly those of ``/predictions`` for the same texts:
the book's model trained on the 20 newsgroups corpus, a sample of its test split scored by the
command and sent to a real server over HTTP, categories and probabilities compared as they
are, with no tolerance."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newsapi.model.artifact import Artifact
from newsapi.model.data import Corpus
from tests.scoring.helpers import score
from tests.support import Server

pytestmark = [pytest.mark.corpus, pytest.mark.server]

SAMPLE = 600


def test_the_command_answers_exactly_as_predictions(
    newsgroups: Corpus,
    real_model: Artifact,
    start_server: Callable[..., Server],
    tmp_path: Path,
) -> None:
    posts = random.Random(0).sample(newsgroups.test_texts, SAMPLE)
    posts.append("café, naïve — 数据 and a crypto key")  # beyond ASCII, as the posts are not
    source = tmp_path / "posts.parquet"
    ids = [f"doc-{i}" for i in range(len(posts))]
    pq.write_table(pa.table({"id": ids, "text": posts}), source, row_group_size=128)
    out = tmp_path / "scores.parquet"
    # the real model's artifacts folder holds its promoted pair (no store beside it)
    result = score(real_model.path.parent, source, "-o", out, "--id-column", "id", "--scores")
    assert result.returncode == 0, result.stderr
    scored = pq.read_table(out).to_pylist()
    assert [row["id"] for row in scored] == ids

    server = start_server(real_model.path)
    categories: list[str] = []
    probabilities: list[dict[str, float]] = []
    for begin in range(0, len(posts), 250):
        response = httpx.post(
            f"{server.url}/predictions?scores=true",
            json={"texts": posts[begin : begin + 250]},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        assert response.headers["x-model-version"] == real_model.model_version
        body = response.json()
        categories += body["categories"]
        probabilities += body["scores"]
    names = real_model.target_names
    assert [row["category"] for row in scored] == categories
    assert [[row[n] for n in names] for row in scored] == [
        [p[n] for n in names] for p in probabilities
    ]
    plain = httpx.post(f"{server.url}/predictions", json={"texts": posts[:250]}, timeout=60)
    assert plain.json()["categories"] == [row["category"] for row in scored[:250]]
