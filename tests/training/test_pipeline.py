"""Building, fitting and explaining the pipeline."""

from __future__ import annotations

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.naive_bayes import MultinomialNB

from newsapi.model.params import CLASSIFIERS, DEFAULTS
from newsapi.training.pipeline import build_pipeline, fit, top_terms
from tests.support import TOPICS, tiny_corpus


@pytest.mark.parametrize("classifier", CLASSIFIERS)
def test_every_classifier_learns_the_topics(classifier: str) -> None:
    corpus = tiny_corpus()
    pipeline, metrics = fit(DEFAULTS.replace(classifier=classifier), corpus)
    assert metrics["accuracy"] >= 0.9
    assert set(metrics["per_class"]) == set(corpus.target_names)
    terms = top_terms(pipeline, corpus.target_names, 5)
    space_words = set(TOPICS["space"].split())
    assert set(terms["space"]) <= space_words


def test_defaults_are_the_books_model() -> None:
    vectorizer, model = build_pipeline()
    assert type(vectorizer) is TfidfVectorizer
    assert type(model) is MultinomialNB
    assert vectorizer.get_params()["ngram_range"] == (1, 1)
    assert model.get_params()["alpha"] == 1.0
