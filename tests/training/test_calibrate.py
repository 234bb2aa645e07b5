"""``calibrate``: a margin classifier gets probabilities, the book's model stays byte for byte
what it was, a calibrated model is served with scores, and a sweep says which candidates give
probabilities."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.naive_bayes import MultinomialNB

from newsapi.model.artifact import Artifact, load_artifact
from newsapi.model.params import CLASSIFIERS, DEFAULTS
from newsapi.training.pipeline import build_pipeline, fit, top_terms
from newsapi.training.sweep.report import (
    candidate_rows,
    format_rows,
    gives_probabilities,
    promotion_advice,
    side_by_side,
)
from newsapi.training.sweep.search import run_search
from newsapi.training.sweep.spec import SweepSpec
from tests.support import Server, tiny_corpus, train_tiny
from tests.support.sweeps import overlapping_corpus

TINY = DEFAULTS.replace(categories=None)


def test_without_calibrate_every_classifier_is_built_as_before() -> None:
    book = build_pipeline(DEFAULTS)
    assert [type(step) for _, step in book.steps] == [TfidfVectorizer, MultinomialNB]
    for classifier in CLASSIFIERS:
        final = build_pipeline(DEFAULTS.replace(classifier=classifier))[-1]
        assert not isinstance(final, CalibratedClassifierCV)
        wrapped = build_pipeline(DEFAULTS.replace(classifier=classifier, calibrate=True))[-1]
        assert isinstance(wrapped, CalibratedClassifierCV)
        assert type(wrapped.estimator) is type(final)
        assert wrapped.estimator.get_params() == final.get_params()


@pytest.mark.corpus
def test_the_books_model_keeps_its_version(real_model: Artifact) -> None:
    """The default parameters (calibrate off) still train the bytes the committed notebooks
    show."""
    assert real_model.model_version == "f9da8b499c72"


def test_a_calibrated_linear_svc_gives_probabilities() -> None:
    corpus = tiny_corpus()
    plain, _ = fit(TINY.replace(classifier="linear_svc"), corpus)
    assert not hasattr(plain, "predict_proba")
    calibrated, metrics = fit(TINY.replace(classifier="linear_svc", calibrate=True), corpus)
    proba = calibrated.predict_proba(corpus.test_texts)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (proba.argmax(axis=1) == calibrated.predict(corpus.test_texts)).all()
    assert metrics["accuracy"] > 0.9
    # the weights the model card's top terms are read from: the folds' classifiers, averaged
    assert top_terms(calibrated, corpus.target_names, 3)["space"][0] in corpus_words("space")


def corpus_words(topic: str) -> list[str]:
    from tests.support import TOPICS

    return TOPICS[topic].split()


@pytest.mark.server
def test_a_calibrated_model_is_served_with_scores(
    tmp_path: Path, start_server: Callable[..., Server]
) -> None:
    """The serving start-up lays out the weights of the classifiers it knows by class name; a
    calibrated one is left as it is and still answers, with probabilities."""
    artifact = train_tiny(tmp_path / "m" / "model.joblib", "linear_svc", calibrate=True)
    assert type(load_artifact(artifact.path).pipeline[-1]).__name__ == "CalibratedClassifierCV"
    server = start_server(artifact.path)
    text = "the rocket will launch a satellite into orbit"
    plain = httpx.post(f"{server.url}/prediction", json={"text": text}, timeout=30)
    assert plain.status_code == 200, plain.text
    assert plain.json() == {"category": "space"}
    scored = httpx.post(f"{server.url}/prediction?scores=true", json={"text": text}, timeout=30)
    assert scored.status_code == 200, scored.text
    scores = scored.json()["scores"]
    assert set(scores) == {"cooking", "space", "sport"}
    assert abs(sum(scores.values()) - 1) < 1e-3
    assert max(scores, key=scores.__getitem__) == "space"


def test_the_sweep_report_says_which_candidates_give_probabilities() -> None:
    grid = [
        {"classifier": ["multinomial_nb", "linear_svc"]},
        {"classifier": ["linear_svc"], "calibrate": [True]},
    ]
    spec = SweepSpec.build({"grid": grid, "categories": None, "n_jobs": 1})
    outcome = run_search(spec, overlapping_corpus(), write=None)
    rows = candidate_rows(outcome, spec)
    said = {(row["classifier"], row.get("calibrate")): row["probabilities"] for row in rows}
    assert said == {
        ("multinomial_nb", False): "yes",
        ("linear_svc", False): "no",
        ("linear_svc", True): "yes",
    }
    assert "probabilities" in format_rows(rows).splitlines()[0]


def test_advice_to_promote_a_model_without_probabilities_says_so() -> None:
    metrics = {"accuracy": 0.9, "macro_f1": 0.9, "per_class": {"a": {"f1": 0.9}}}
    promoted = {"accuracy": 0.5, "macro_f1": 0.5, "per_class": {"a": {"f1": 0.5}}}
    rows = side_by_side(metrics, promoted)
    svc = DEFAULTS.replace(classifier="linear_svc")
    advice = promotion_advice(rows, "aaaa", "bbbb", svc)
    assert "worth promoting" in advice
    assert "It gives no probabilities (linear_svc)" in advice
    assert "calibrate: true" in advice
    calibrated = promotion_advice(rows, "aaaa", "bbbb", svc.replace(calibrate=True))
    assert "probabilities" not in calibrated
    assert not gives_probabilities(svc)
    assert gives_probabilities(svc.replace(calibrate=True))
    assert gives_probabilities({"classifier": "sgd"})
