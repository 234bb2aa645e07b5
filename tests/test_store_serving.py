"""The running API follows the store: promotions and rollbacks reach a real uvicorn that
watches the promoted pair, with zero failed requests and every answer consistent with its
``X-Model-Version``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from newsapi.params import DEFAULTS
from newsapi.store import ModelStore, StoredModel
from newsapi.training import fit
from tests.conftest import Server, tiny_corpus, wait_for
from tests.test_reliability import Traffic, answered_by

pytestmark = pytest.mark.server


def store_renamed(store: ModelStore, suffix: str, alpha: float) -> StoredModel:
    """A tiny model whose categories carry ``suffix``, so an answer tells which model gave it."""
    corpus = tiny_corpus()
    params = DEFAULTS.replace(categories=None, alpha=alpha)
    pipeline, metrics = fit(params, corpus)
    names = [f"{name}{suffix}" for name in corpus.target_names]
    metrics["per_class"] = {f"{k}{suffix}": v for k, v in metrics["per_class"].items()}
    return store.add(
        pipeline, names, parameters=params.model_dump(), metrics=metrics,
        dataset=corpus.description,
    )  # fmt: skip


def test_promote_and_rollback_reach_a_watching_server_with_no_failed_request(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    store = ModelStore(tmp_path / "artifacts")
    old = store_renamed(store, "", 0.7)
    new = store_renamed(store, ".v2", 0.3)
    store.promote(old.version)
    server = start_server(
        store.served_path, NEWSAPI_RELOAD_WATCH="true", NEWSAPI_RELOAD_POLL_INTERVAL="0.1"
    )

    def serving(version: str) -> Callable[[], bool]:
        return lambda: httpx.get(f"{server.url}/model").json()["model_version"] == version

    def promote_then_roll_back() -> None:
        store.promote(new.version)
        wait_for(serving(new.version), what="the promoted model")
        store.rollback()
        wait_for(serving(old.version), what="the rolled-back model")

    traffic = Traffic(server.url, clients=6)
    asyncio.run(traffic.run_while(promote_then_roll_back))
    seen = answered_by(traffic, {old.version: "", new.version: ".v2"})
    assert seen == {old.version, new.version}
    assert [e["how"] for e in store.history()] == ["promote", "promote", "rollback"]
