"""06_monitor.ipynb over a real prediction log (not the demo, which nbval checks in make test):
the book's model in a store of its own, posts of two other newsgroups logged by the real writer
with their texts, and a report that says drift and never shows a post."""

from __future__ import annotations

from pathlib import Path

import papermill
import pytest

from newsapi.model.artifact import Artifact
from newsapi.monitoring.demo import other_posts
from newsapi.serving.metrics import Metrics
from newsapi.serving.predictor import prepare
from newsapi.serving.predlog import PredictionLog
from newsapi.settings import PredictionLogSettings
from newsapi.store.catalog import ModelStore
from tests.support import ROOT

# slow: 7 s on an idle machine (a kernel, the corpus, a classifier); make test runs the notebook
# on the demo log through nbval
pytestmark = [pytest.mark.corpus, pytest.mark.slow]


def test_the_report_over_a_real_log_says_drift_and_shows_no_post(
    real_model: Artifact, tmp_path: Path
) -> None:
    store = ModelStore(tmp_path / "store")
    manifest = real_model.manifest
    entry = store.add(real_model.pipeline, real_model.target_names,
                      parameters=manifest["parameters"], metrics=manifest["metrics"],
                      dataset=manifest["dataset"])  # fmt: skip
    store.promote(entry.version)
    posts = other_posts(real_model)[:150]
    predictor, names = prepare(real_model.pipeline), real_model.target_names
    settings = PredictionLogSettings(prediction_log_dir=tmp_path / "log", prediction_log_text=True)
    log = PredictionLog(settings, Metrics())
    log.start()
    for i, post in enumerate(posts):
        log.submit("prediction", f"r{i}", entry.version, predictor, names, [post],
                   predictor.categories(names, [post]))  # fmt: skip
    log.stop()

    executed = papermill.execute_notebook(
        str(ROOT / "notebooks" / "06_monitor.ipynb"),
        str(tmp_path / "06_monitor.ipynb"),
        parameters={"log_dir": str(tmp_path / "log"), "artifact_dir": str(store.root)},
        cwd=str(ROOT / "notebooks"),
        progress_bar=False,
        kernel_name="python3",
    )
    printed = [
        output.get("text", "") for cell in executed.cells for output in cell.get("outputs", [])
    ]
    assert printed[-1].startswith("drift in the category mix: chi-square p = ")
    assert f"150 records of model {entry.version}" in "".join(printed)
    shown = str(executed.cells)
    for post in posts:
        lines = [line for line in post.splitlines() if len(line) > 40]
        assert not any(line in shown for line in lines)
