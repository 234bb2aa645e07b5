"""The prediction log's window gauges across two workers that reload: each live worker's
multiprocess file still holds the series of the version it served before (prometheus_client
cannot remove a series there), and ``/metrics`` leaves out every version no live worker
serves, so an operator's alert never reads a retired model's window."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from newsapi.serving.metrics import WINDOW_PREFIX
from newsapi.settings import MODEL_FILENAME
from tests.support import metric, train_tiny, wait_for
from tests.support.serve_command import start_serve

pytestmark = pytest.mark.server


def window_versions(text: str) -> dict[str, set[str]]:
    """Each window gauge family's model versions in an exposition."""
    found: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        if family.name.startswith(WINDOW_PREFIX):
            found[family.name] = {sample.labels["model_version"] for sample in family.samples}
    return found


def served(text: str) -> set[str]:
    return {
        sample.labels["model_version"]
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "newsapi_model_info" and sample.value
    }


def test_two_reloaded_workers_show_only_the_served_versions_window(tmp_path: Path) -> None:
    model = tmp_path / "served" / MODEL_FILENAME
    model.parent.mkdir()
    first = train_tiny(model).model_version
    folder = tmp_path / "metrics"
    folder.mkdir()
    env = {
        "NEWSAPI_MODEL_PATH": str(model),
        "NEWSAPI_CACHE_DIR": str(tmp_path / "cache"),
        "NEWSAPI_PREDICTION_LOG_DIR": str(tmp_path / "log"),
        "NEWSAPI_RELOAD_WATCH": "true",
        "NEWSAPI_RELOAD_POLL_INTERVAL": "0.1",
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
    }
    server = start_serve(tmp_path, env, "--workers", "2")
    try:

        def scrape() -> str:
            return httpx.get(f"{server.url}/metrics").text

        def ask(prefix: str) -> None:
            # new connections each time, so that both workers get some (the kernel spreads them)
            for i in range(40):
                text = f"{prefix} {i}: the orbit of the moon and a graphics card"
                response = httpx.post(f"{server.url}/prediction", json={"text": text})
                assert response.status_code == 200

        ask("before")
        records = "newsapi_prediction_window_records"
        wait_for(lambda: metric(scrape(), records, model_version=first) > 0, what="A's window")
        second = train_tiny(model, alpha=0.5).model_version
        assert second != first
        wait_for(lambda: served(scrape()) == {second}, what="both workers on the new model")
        ask("after")
        wait_for(lambda: metric(scrape(), records, model_version=second) > 0, what="B's window")
        text = scrape()
        # every window family is there, for the served version only
        families = window_versions(text)
        assert {f"{WINDOW_PREFIX}{name}" for name in ("records", "category_share", "score",
                "oov_share")} <= set(families)  # fmt: skip
        assert all(versions == {second} for versions in families.values()), families
        # what is shown is a worker's window of the new model: shares of its categories
        shares = [
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == f"{WINDOW_PREFIX}category_share"
        ]
        assert shares
        assert all(0 <= share <= 1 for share in shares)
        assert max(shares) > 0
        assert 0 < metric(text, records, model_version=second) <= 40
    finally:
        server.stop()
