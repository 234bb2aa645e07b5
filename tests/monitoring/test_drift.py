"""The drift report on real traffic: the book's four-category model, a real prediction log
(the writer's thread and files, texts kept), held-out test posts of its categories, then test
posts of two newsgroups it never saw.

The in-distribution windows are disjoint runs of 200 test posts (all seven the split holds);
each is compared with the rest of the split (the report takes the window's posts out of the
reference). The figures
these tests see are the ones docs/monitor.md gives.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from newsapi.model.artifact import Artifact
from newsapi.monitoring import (
    DriftReport,
    MonitorError,
    Reference,
    build_reference,
    corpus_of,
    drift_report,
    read_window,
)
from newsapi.monitoring.demo import other_posts
from newsapi.monitoring.domain import domain_classifier
from newsapi.monitoring.verdict import AUC_LIMIT, CONFIDENCE, MIX, NO_DRIFT, OOV, TEXTS
from newsapi.serving.metrics import Metrics
from newsapi.serving.predictor import Predictor, prepare
from newsapi.serving.predlog import PredictionLog
from newsapi.settings import PredictionLogSettings

pytestmark = pytest.mark.corpus

WINDOW = 200
CALL = 10  # texts per logged call, as /predictions calls of 10 would log them


@pytest.fixture(scope="module")
def predictor(real_model: Artifact) -> Predictor:
    return prepare(real_model.pipeline)


@pytest.fixture(scope="module")
def reference(real_model: Artifact, predictor: Predictor) -> Reference:
    return build_reference(real_model, corpus_of(real_model), predictor)


def logged_report(
    folder: Path, artifact: Artifact, predictor: Predictor, texts: list[str], reference: Reference
) -> DriftReport:
    """Log ``texts`` with the real writer (texts kept), then report on the whole log."""
    settings = PredictionLogSettings(prediction_log_dir=folder, prediction_log_text=True)
    log = PredictionLog(settings, Metrics())
    log.start()
    names = artifact.target_names
    for first in range(0, len(texts), CALL):
        call = texts[first : first + CALL]
        log.submit("predictions", f"req-{first}", artifact.model_version, predictor, names,
                   call, predictor.categories(names, call))  # fmt: skip
    log.stop()
    return drift_report(read_window(folder, artifact.model_version), reference)


def test_held_out_posts_of_the_models_categories_show_no_drift(
    real_model: Artifact, predictor: Predictor, reference: Reference, tmp_path: Path
) -> None:
    report = logged_report(
        tmp_path / "log", real_model, predictor, reference.texts[:WINDOW], reference
    )
    assert len(report.window) == WINDOW
    assert len(report.reference) == len(reference) - WINDOW  # the window's posts left out
    assert report.domain is not None
    assert report.domain.auc < 0.75
    assert report.verdict.sentence() == NO_DRIFT
    other = dataclasses.replace(report.window, model_version="0123456789ab")
    with pytest.raises(MonitorError, match="build the reference from the same model"):
        drift_report(other, reference)


def test_posts_of_other_newsgroups_drift_in_mix_confidence_vocabulary_and_texts(
    real_model: Artifact, predictor: Predictor, reference: Reference, tmp_path: Path
) -> None:
    others = other_posts(real_model)  # rec.autos and sci.med, shuffled together
    report = logged_report(tmp_path / "log", real_model, predictor, others[:WINDOW], reference)
    assert len(report.reference) == len(reference)  # no test post of the model's in the window
    drifted = {finding.what for finding in report.verdict.drifted}
    assert {MIX, CONFIDENCE, OOV, TEXTS} <= drifted
    assert report.verdict.sentence().startswith("drift in the category mix: chi-square p = ")
    assert report.confidence is not None
    assert report.oov is not None
    assert report.confidence.live_median < report.confidence.reference_median
    assert report.oov.live_mean > report.oov.reference_mean
    assert report.domain is not None
    assert report.domain.auc > 0.9


@pytest.mark.slow  # 10 s on an idle machine, more under load: seven logs and classifiers
def test_seven_disjoint_windows_of_held_out_posts_raise_no_false_alarm(
    real_model: Artifact, predictor: Predictor, reference: Reference, tmp_path: Path
) -> None:
    windows = len(reference) // WINDOW
    assert windows == 7
    for i in range(windows):
        posts = reference.texts[i * WINDOW : (i + 1) * WINDOW]
        report = logged_report(tmp_path / f"log-{i}", real_model, predictor, posts, reference)
        assert report.domain is not None
        assert report.domain.auc < 0.75, i
        assert report.verdict.sentence() == NO_DRIFT, i


@pytest.mark.slow  # 7 s on an idle machine: a classifier over both splits
def test_the_test_split_against_the_training_split_stays_under_the_auc_limit(
    real_model: Artifact,
) -> None:
    # why the limit is 0.75: the same newsgroups a few weeks later (the "bydate" split) are
    # told apart well above chance, yet below it
    corpus = corpus_of(real_model)
    found = domain_classifier(corpus.test_texts, corpus.train_texts)
    assert 0.7 < found.auc < AUC_LIMIT
