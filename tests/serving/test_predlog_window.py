"""The prediction log's sliding-window gauges (:mod:`newsapi.serving.predlog.window`), set by
a real writer thread and checked against the records it wrote."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from newsapi.model.artifact import Artifact
from newsapi.serving.metrics import Metrics
from newsapi.serving.predictor import prepare
from newsapi.serving.predlog import PredictionLog, read_log
from newsapi.settings import PredictionLogSettings
from tests.support.corpora import mixed_sentences


def gauge(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(f"newsapi_prediction_window_{name}", labels)


def test_window_gauges_follow_the_last_records_of_the_last_two_versions(
    tiny_model: Artifact, tmp_path: Path
) -> None:
    predictor = prepare(tiny_model.pipeline)
    names = tiny_model.target_names
    texts = [*mixed_sentences(9, seed=5), "zzqx qqxz"]  # the last: only unknown words
    categories = predictor.categories(names, texts)
    metrics = Metrics()
    window = 4
    folder = tmp_path / "log"
    log = PredictionLog(
        PredictionLogSettings(prediction_log_dir=folder, prediction_log_window=window), metrics
    )
    log.start()
    for version in ["v1", "v2"]:
        log.submit("prediction", "r", version, predictor, names, texts, categories)
    # a third version (as if two reloads happened), whose first answers are all "old": once
    # the writer has them in the window, newer answers push them out
    log.submit("prediction", "r", "v3", predictor, names, texts, ["old"] * len(texts))
    deadline = time.monotonic() + 20
    while gauge(metrics, "category_share", model_version="v3", category="old") != 1.0:
        assert time.monotonic() < deadline, "the writer did not measure the records"
        time.sleep(0.01)
    log.submit("prediction", "r", "v3", predictor, names, texts, categories)
    log.stop()
    rows = read_log(folder).to_pylist()
    assert len(rows) == 4 * len(texts)
    # two versions are kept: the first one's series are gone
    assert gauge(metrics, "records", model_version="v1") is None
    assert gauge(metrics, "oov_share", model_version="v1") is None
    assert gauge(metrics, "category_share", model_version="v3", category="old") == 0
    for version in ["v2", "v3"]:
        last = [row for row in rows if row["model_version"] == version][-window:]
        assert gauge(metrics, "records", model_version=version) == window
        for category in {row["category"] for row in last}:
            share = sum(row["category"] == category for row in last) / window
            value = gauge(metrics, "category_share", model_version=version, category=category)
            assert value == pytest.approx(share)
        [kind] = {row["score_kind"] for row in last}
        mean = sum(row["score"] for row in last) / window
        assert gauge(metrics, "score", model_version=version, kind=kind) == pytest.approx(mean)
        shares = [row["oov_share"] for row in last if row["oov_share"] is not None]
        oov = gauge(metrics, "oov_share", model_version=version)
        assert oov == pytest.approx(sum(shares) / len(shares))
        assert oov is not None
        assert 0 < oov < 1  # the unknown-words text is in the window
        assert not math.isnan(oov)
