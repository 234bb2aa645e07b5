"""scikit-learn's ``predict_proba`` formulas, from the decision values the lean path computes.

Each formula repeats, operation for operation and on an array of the same shape, what the
installed scikit-learn does after its ``decision_function`` (or, for naive Bayes, its joint
log likelihood), so the probabilities are scikit-learn's (checked against ``predict_proba``
at every load, :func:`newsapi.serving.lean.check`, and on the 20 newsgroups in the tests).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from scipy.special import expit

Formula = Literal["naive_bayes", "softmax", "one_vs_rest", "modified_huber"]


def naive_bayes(jll: np.ndarray) -> np.ndarray:
    """``_BaseNB.predict_proba``: ``exp(jll - logsumexp(jll))``, with scikit-learn's
    ``_logsumexp`` (the maximum set apart, ``log1p`` of the rest)."""
    top = jll.max(axis=1, keepdims=True)
    at_top = jll == top
    rest = jll.copy()
    rest[at_top] = -np.inf
    tops = np.sum(at_top.astype(jll.dtype), axis=1, keepdims=True, dtype=jll.dtype)
    shift = np.where(np.isfinite(top), top, 0)
    total = np.sum(np.exp(rest - shift), axis=1, keepdims=True, dtype=jll.dtype)
    total = np.where(total == 0, total, total / tops)
    log_evidence = np.log1p(total) + np.log(tops) + top
    proba: np.ndarray = np.exp(jll - log_evidence)
    return proba


def softmax(decisions: np.ndarray) -> np.ndarray:
    """``LogisticRegression.predict_proba`` with more than two classes
    (``sklearn.utils.extmath.softmax``)."""
    proba = decisions.copy()
    proba -= proba.max(axis=1).reshape((-1, 1))
    np.exp(proba, out=proba)
    proba /= proba.sum(axis=1).reshape((-1, 1))
    return proba


def one_vs_rest(decisions: np.ndarray) -> np.ndarray:
    """``LinearClassifierMixin._predict_proba_lr``: binary logistic regression, and SGD with
    the log loss."""
    if decisions.shape[1] == 1:
        positive = expit(decisions[:, 0])
        return np.stack([1 - positive, positive], axis=1)
    proba: np.ndarray = expit(decisions)
    return _normalised(proba)


def modified_huber(decisions: np.ndarray) -> np.ndarray:
    """``SGDClassifier.predict_proba`` with the modified Huber loss."""
    if decisions.shape[1] == 1:
        both = np.ones((decisions.shape[0], 2))
        positive = both[:, 1]
        np.clip(decisions[:, 0], -1, 1, positive)
        positive += 1.0
        positive /= 2.0
        both[:, 0] -= positive
        return both
    proba = decisions.copy()
    np.clip(proba, -1, 1, proba)
    proba += 1.0
    proba /= 2.0
    return _normalised(proba)


FORMULAS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "naive_bayes": naive_bayes,
    "softmax": softmax,
    "one_vs_rest": one_vs_rest,
    "modified_huber": modified_huber,
}


def formula_of(model: Any) -> Formula | None:
    """Which formula the fitted ``model``'s ``predict_proba`` follows; None when it has none."""
    name = type(model).__name__
    if name in ("MultinomialNB", "ComplementNB"):
        return "naive_bayes"
    if name == "LogisticRegression":
        return "one_vs_rest" if len(model.classes_) <= 2 else "softmax"
    if name == "SGDClassifier" and model.loss == "log_loss":
        return "one_vs_rest"
    if name == "SGDClassifier" and model.loss == "modified_huber":
        return "modified_huber"
    return None


def _normalised(proba: np.ndarray) -> np.ndarray:
    """Each row divided by its sum in place, a row of zeros made uniform: the one-vs-rest
    normalisation scikit-learn's linear classifiers share."""
    total = proba.sum(axis=1)
    all_zero = total == 0
    if np.any(all_zero):
        proba[all_zero, :] = 1
        total[all_zero] = proba.shape[1]
    proba /= total.reshape((proba.shape[0], -1))
    return proba
