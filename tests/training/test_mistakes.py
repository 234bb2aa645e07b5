"""The most confident mistakes and the terms that decided them (newsapi.training.mistakes),
and their HTML (newsapi.training.highlight): categories, confidence and terms, never the
post."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pytest
from sklearn.pipeline import Pipeline

from newsapi.model.params import TrainingParameters
from newsapi.serving.explain import explain_texts
from newsapi.training.highlight import mistakes_table
from newsapi.training.mistakes import confident_mistakes, explain_mistakes
from newsapi.training.pipeline import build_pipeline
from tests.support import tiny_corpus

CORPUS = tiny_corpus()
NAMES = CORPUS.target_names  # cooking, space, sport
# written for the test: a space post whose subject and sender name sport words
HEADED = "From: striker@stadium.example.com\nSubject: moon\n\nrocket orbit launch the"
TEXTS = ["rocket orbit moon launch", "bake pasta oven garlic", "goal striker match", HEADED]
# the labels a careless annotator gave: the first and the last are wrong
LABELS = [NAMES.index("cooking"), NAMES.index("cooking"), NAMES.index("sport"), 0]


def fitted(classifier: str, **params: Any) -> Pipeline:
    pipeline = build_pipeline(TrainingParameters.build({"classifier": classifier, **params}))
    return pipeline.fit(CORPUS.train_texts, CORPUS.train_labels)


def test_mistakes_are_the_wrong_predictions_surest_first() -> None:
    pipeline = fitted("multinomial_nb")
    mistakes = confident_mistakes(pipeline, TEXTS, LABELS, NAMES)
    assert sorted(m.index for m in mistakes) == [0, 3]
    proba = pipeline.predict_proba(TEXTS)
    assert [m.confidence for m in mistakes] == sorted(
        (float(proba[m.index].max()) for m in mistakes), reverse=True
    )
    assert {(m.true, m.predicted, m.measure) for m in mistakes} == {
        ("cooking", "space", "probability")
    }
    assert confident_mistakes(pipeline, TEXTS, LABELS, NAMES, n=1) == mistakes[:1]


def test_without_probabilities_the_margin_ranks_them() -> None:
    pipeline = fitted("linear_svc")
    [surest, other] = confident_mistakes(pipeline, TEXTS, LABELS, NAMES)
    decision = np.sort(pipeline.decision_function(TEXTS), axis=1)
    assert surest.measure == "margin"
    assert surest.confidence == decision[surest.index, -1] - decision[surest.index, -2]
    assert surest.confidence >= other.confidence


def test_deciding_terms_are_marked_when_they_come_from_the_headers() -> None:
    pipeline = fitted("multinomial_nb")
    explain = partial(explain_texts, pipeline, NAMES, top=10)
    explained = explain_mistakes(pipeline, TEXTS, LABELS, NAMES, explain)
    pairs = zip(explained.mistakes, explained.deciding, strict=True)
    [headed] = [terms for mistake, terms in pairs if mistake.index == 3]
    marked = {term.term: term.artefact for term in headed}
    # moon pulls towards space from the Subject: line only; rocket and orbit from the body
    assert marked["moon"] is True
    assert marked["rocket"] is False
    assert marked["orbit"] is False
    assert all(term.weight > 0 for term in headed)  # only what pulled towards "space"
    assert [term.weight for term in headed] == sorted((t.weight for t in headed), reverse=True)
    terms = sum(len(post) for post in explained.deciding)
    assert explained.sentence().startswith(f"1 of the {terms} terms that decided these 2 ")


def test_the_table_shows_categories_and_terms_but_not_the_posts() -> None:
    pipeline = fitted("multinomial_nb")
    explain = partial(explain_texts, pipeline, NAMES, top=10)
    table = mistakes_table(explain_mistakes(pipeline, TEXTS, LABELS, NAMES, explain))
    assert "<td>cooking</td><td>space</td>" in table
    assert "moon +" in table
    assert "(header)" in table
    assert "striker@" not in table
    assert "rocket orbit" not in table


def test_a_model_that_cannot_be_explained_keeps_its_mistakes_and_says_why() -> None:
    pipeline = fitted("linear_svc", calibrate=True)
    explain = partial(explain_texts, pipeline, NAMES, top=10)
    explained = explain_mistakes(pipeline, TEXTS, LABELS, NAMES, explain)
    assert explained.mistakes
    assert explained.unexplained is not None
    assert "calibrated" in explained.sentence()
    assert "not explained" in mistakes_table(explained)


@pytest.mark.parametrize("classifier", ["multinomial_nb", "sgd"])
def test_no_mistake_is_said_so(classifier: str) -> None:
    pipeline = fitted(classifier)
    right = list(pipeline.predict(TEXTS))
    explained = explain_mistakes(
        pipeline, TEXTS, right, NAMES, partial(explain_texts, pipeline, NAMES)
    )
    assert explained.mistakes == []
    assert explained.sentence() == "The model made no mistake on this split."
