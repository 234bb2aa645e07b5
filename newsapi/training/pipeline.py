"""Building, evaluating and explaining the text classification pipeline."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)
from sklearn.naive_bayes import ComplementNB, MultinomialNB
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.svm import LinearSVC

from newsapi.model.data import Corpus
from newsapi.model.params import DEFAULTS, TrainingParameters


def build_pipeline(params: TrainingParameters = DEFAULTS) -> Pipeline:
    """``TfidfVectorizer`` followed by ``params.classifier``; the defaults are the book's model.

    ``alpha`` tunes the naive Bayes and SGD models, ``C`` the SVM and logistic regression.
    With ``calibrate``, the classifier is wrapped in scikit-learn's ``CalibratedClassifierCV``
    (sigmoid, its default 5 stratified folds): a margin classifier (``linear_svc``) then gives
    probabilities. The parameters were validated when ``params`` was built, so this cannot
    fail.
    """
    models: dict[str, Any] = {
        "multinomial_nb": lambda: MultinomialNB(alpha=params.alpha),
        "complement_nb": lambda: ComplementNB(alpha=params.alpha),
        "linear_svc": lambda: LinearSVC(C=params.C, random_state=params.random_state),
        "logistic_regression": lambda: LogisticRegression(
            C=params.C, max_iter=1000, random_state=params.random_state
        ),
        "sgd": lambda: SGDClassifier(
            loss="modified_huber", alpha=params.alpha * 1e-4, random_state=params.random_state
        ),
    }
    vectorizer = TfidfVectorizer(
        ngram_range=(1, params.ngram_max),
        min_df=params.min_df,
        max_df=params.max_df,
        sublinear_tf=params.sublinear_tf,
        max_features=params.max_features,
    )
    classifier = models[params.classifier]()
    if params.calibrate:
        classifier = CalibratedClassifierCV(classifier, method="sigmoid")
    return make_pipeline(vectorizer, classifier)


def fit(params: TrainingParameters, corpus: Corpus) -> tuple[Pipeline, dict[str, Any]]:
    """The pipeline of ``params`` fitted on the training split, and its test-split metrics."""
    pipeline = build_pipeline(params).fit(corpus.train_texts, corpus.train_labels)
    return pipeline, evaluate(pipeline, corpus)


def evaluate(pipeline: Pipeline, corpus: Corpus) -> dict[str, Any]:
    """Test-set accuracy, macro-F1 and per-class precision/recall/F1/support."""
    predicted = pipeline.predict(corpus.test_texts)
    labels = list(range(len(corpus.target_names)))
    precision, recall, f1, support = precision_recall_fscore_support(
        corpus.test_labels, predicted, labels=labels, zero_division=0
    )
    matrix = confusion_matrix(corpus.test_labels, predicted, labels=labels)
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
        "confusion_matrix": [[int(n) for n in row] for row in matrix],
    }


def top_terms(pipeline: Pipeline, target_names: list[str], n: int = 10) -> dict[str, list[str]]:
    """The ``n`` most distinctive terms of each class, read off the fitted model.

    A term's weight for a class is compared with its mean over all classes, so words common
    to every class ("the", "of") do not crowd the list.
    """
    vectorizer = pipeline[0]
    terms = vectorizer.get_feature_names_out()
    weights = class_weights(pipeline[-1])
    if weights.shape[0] == 1:  # binary linear models keep one row for the positive class
        weights = np.vstack([-weights[0], weights[0]])
    weights = weights - weights.mean(axis=0)
    return {
        name: [str(terms[j]) for j in np.argsort(weights[i])[::-1][:n]]
        for i, name in enumerate(target_names)
    }


def class_weights(model: Any) -> Any:
    """The (classes x features) weights a fitted classifier scores by; for a calibrated one,
    the mean over the classifiers fitted on its folds (the ones its predictions average)."""
    fitted = getattr(model, "calibrated_classifiers_", None)
    if fitted is not None:
        return np.mean([class_weights(one.estimator) for one in fitted], axis=0)
    weights = getattr(model, "feature_log_prob_", None)
    return np.asarray(model.coef_ if weights is None else weights)


def artefact_terms(
    terms: dict[str, list[str]], texts: list[str], stripped: list[str], keep: float = 0.5
) -> dict[str, list[str]]:
    """Per category, the top ``terms`` that mostly vanish when headers, signatures and quotes
    are stripped from the same posts (``texts`` vs ``stripped``): fewer than ``keep`` of the
    posts that contain one still do. They say who posted from where, not what was written."""
    vocabulary = sorted({term for words in terms.values() for term in words})
    if not vocabulary:
        return {name: [] for name in terms}
    longest = max(len(term.split()) for term in vocabulary)
    counter = CountVectorizer(vocabulary=vocabulary, binary=True, ngram_range=(1, longest))
    before = np.asarray(counter.transform(texts).sum(axis=0)).ravel()
    after = np.asarray(counter.transform(stripped).sum(axis=0)).ravel()
    share = dict(zip(vocabulary, after / np.maximum(before, 1), strict=True))
    return {name: [t for t in words if share[t] < keep] for name, words in terms.items()}


def weakest_category(metrics: dict[str, Any]) -> tuple[str, float, float]:
    """The category with the lowest F1: its name, recall and F1."""
    name, scores = min(metrics["per_class"].items(), key=lambda item: item[1]["f1"])
    return name, float(scores["recall"]), float(scores["f1"])


def most_confused(metrics: dict[str, Any], target_names: list[str]) -> tuple[str, str, int]:
    """The (true, predicted) pair of different categories with most test documents."""
    matrix = np.asarray(metrics["confusion_matrix"])
    off = matrix - np.diag(np.diag(matrix))
    i, j = np.unravel_index(int(np.argmax(off)), off.shape)
    return target_names[int(i)], target_names[int(j)], int(off[i, j])
