"""The real model, built from the corpus: the book's contract and exact agreement with
calling the pipeline directly, batched or not."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from newsapi.model.artifact import Artifact
from newsapi.model.data import Corpus
from tests.support import Server

pytestmark = pytest.mark.corpus


def test_books_contract(client_for: Callable[..., TestClient], real_model: Artifact) -> None:
    client = client_for(real_model.path)
    assert client.post("/prediction", json={}).status_code == 422
    response = client.post("/prediction", json={"text": "computer cpu memory ram"})
    assert response.status_code == 200
    assert response.json() == {"category": "comp.sys.mac.hardware"}
    assert response.headers["x-cache"] == "miss"
    assert (
        client.post("/prediction", json={"text": "computer cpu memory ram"}).headers["x-cache"]
        == "hit"
    )
    assert client.delete("/cache").status_code == 204
    after = client.post("/prediction", json={"text": "computer cpu memory ram"})
    assert after.json() == {"category": "comp.sys.mac.hardware"}
    assert after.headers["x-cache"] == "miss"


def test_real_model_quality(real_model: Artifact) -> None:
    assert real_model.manifest["metrics"]["accuracy"] >= 0.83


@pytest.fixture(scope="module")
def expected(real_model: Artifact, newsgroups: Corpus) -> list[str]:
    """The categories of the whole test set from calling the pipeline directly."""
    names = real_model.target_names
    return [names[i] for i in real_model.pipeline.predict(newsgroups.test_texts)]


def test_batch_route_equals_direct_predict_on_the_test_set(
    client_for: Callable[..., TestClient],
    real_model: Artifact,
    newsgroups: Corpus,
    expected: list[str],
) -> None:
    client = client_for(real_model.path)
    got: list[str] = []
    texts = newsgroups.test_texts
    for start in range(0, len(texts), 500):
        response = client.post("/predictions", json={"texts": texts[start : start + 500]})
        assert response.status_code == 200
        got += response.json()["categories"]
    assert got == expected


def test_concurrent_single_requests_equal_direct_predict(
    start_server: Callable[..., Server],
    real_model: Artifact,
    newsgroups: Corpus,
    expected: list[str],
) -> None:
    """1,430 concurrent /prediction calls against a real server, micro-batched together."""
    server = start_server(real_model.path)

    async def ask_all() -> list[str]:
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60) as http:
            gate = asyncio.Semaphore(64)

            async def ask(text: str) -> str:
                async with gate:
                    response = await http.post("/prediction", json={"text": text})
                assert response.status_code == 200
                assert response.headers["x-model-version"] == real_model.model_version
                category: str = response.json()["category"]
                return category

            return await asyncio.gather(*(ask(text) for text in newsgroups.test_texts))

    assert asyncio.run(ask_all()) == expected
    metrics = httpx.get(f"{server.url}/metrics").text
    # answers came from shared model calls, not one call per request
    calls = [
        line for line in metrics.splitlines() if line.startswith("newsapi_model_batch_size_count")
    ]
    assert float(calls[0].split()[-1]) < len(set(newsgroups.test_texts))
