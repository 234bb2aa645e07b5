"""Building, evaluating and explaining the text classification pipeline."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
from sklearn.naive_bayes import ComplementNB, MultinomialNB
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.svm import LinearSVC

from newsapi.data import Corpus
from newsapi.errors import NewsapiError

CLASSIFIERS = ("multinomial_nb", "complement_nb", "linear_svc", "logistic_regression", "sgd")


class ParameterError(NewsapiError, ValueError):
    """A training parameter is out of its domain."""


def build_pipeline(
    classifier: str = "multinomial_nb",
    *,
    alpha: float = 1.0,
    C: float = 1.0,
    ngram_max: int = 1,
    min_df: int | float = 1,
    max_df: int | float = 1.0,
    sublinear_tf: bool = False,
    max_features: int | None = None,
    random_state: int = 0,
) -> Pipeline:
    """``TfidfVectorizer`` followed by ``classifier``; the defaults are the book's model.

    ``alpha`` tunes the naive Bayes and SGD models, ``C`` the SVM and logistic regression.
    """
    models: dict[str, Any] = {
        "multinomial_nb": lambda: MultinomialNB(alpha=alpha),
        "complement_nb": lambda: ComplementNB(alpha=alpha),
        "linear_svc": lambda: LinearSVC(C=C, random_state=random_state),
        "logistic_regression": lambda: LogisticRegression(
            C=C, max_iter=1000, random_state=random_state
        ),
        "sgd": lambda: SGDClassifier(
            loss="modified_huber", alpha=alpha * 1e-4, random_state=random_state
        ),
    }
    if classifier not in models:
        raise ParameterError(f"classifier: unknown {classifier!r}; choose from {list(models)}")
    if not isinstance(ngram_max, int) or ngram_max < 1:
        raise ParameterError(f"ngram_max: must be a whole number >= 1, got {ngram_max!r}")
    vectorizer = TfidfVectorizer(
        ngram_range=(1, ngram_max),
        min_df=min_df,
        max_df=max_df,
        sublinear_tf=sublinear_tf,
        max_features=max_features,
    )
    return make_pipeline(vectorizer, models[classifier]())


def evaluate(pipeline: Pipeline, corpus: Corpus) -> dict[str, Any]:
    """Test-set accuracy, macro-F1 and per-class precision/recall/F1/support."""
    predicted = pipeline.predict(corpus.test_texts)
    labels = list(range(len(corpus.target_names)))
    precision, recall, f1, support = precision_recall_fscore_support(
        corpus.test_labels, predicted, labels=labels, zero_division=0
    )
    return {
        "accuracy": round(float(accuracy_score(corpus.test_labels, predicted)), 6),
        "macro_f1": round(
            float(f1_score(corpus.test_labels, predicted, average="macro", zero_division=0)), 6
        ),
        "per_class": {
            name: {
                "precision": round(float(precision[i]), 6),
                "recall": round(float(recall[i]), 6),
                "f1": round(float(f1[i]), 6),
                "support": int(support[i]),
            }
            for i, name in enumerate(corpus.target_names)
        },
    }


def top_terms(pipeline: Pipeline, target_names: list[str], n: int = 10) -> dict[str, list[str]]:
    """The ``n`` most distinctive terms of each class, read off the fitted model.

    A term's weight for a class is compared with its mean over all classes, so words common
    to every class ("the", "of") do not crowd the list.
    """
    vectorizer, model = pipeline[0], pipeline[-1]
    terms = vectorizer.get_feature_names_out()
    weights = getattr(model, "feature_log_prob_", None)
    if weights is None:
        weights = model.coef_
    weights = np.asarray(weights)
    if weights.shape[0] == 1:  # binary linear models keep one row for the positive class
        weights = np.vstack([-weights[0], weights[0]])
    weights = weights - weights.mean(axis=0)
    return {
        name: [str(terms[j]) for j in np.argsort(weights[i])[::-1][:n]]
        for i, name in enumerate(target_names)
    }
