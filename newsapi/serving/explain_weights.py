"""The classifier's side of an explanation: which pipelines are explained exactly, the
features and scores of the texts (through the lean path when the pipeline compiles), and the
weights and offsets read off the fitted classifier."""

from __future__ import annotations

import weakref
from typing import Any, NamedTuple

import numpy as np
import sklearn
from sklearn.feature_extraction.text import CountVectorizer

from newsapi.errors import NewsapiError
from newsapi.model.params import CLASSIFIER_KINDS
from newsapi.serving.lean import ONE_BY_ONE_MAX, LeanModel, check, compile_pipeline

#: the score each kind of classifier decides by, as its own method computes it
SCORES = {"coef_": "decision_function", "feature_log_prob_": "joint_log_likelihood"}
_KINDS = {kind.estimator: kind for kind in CLASSIFIER_KINDS.values()}


class Rows(NamedTuple):
    """Rows of features in CSR's three arrays (what an explanation reads of a sparse
    matrix), for texts computed one by one."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray


class ExplanationError(NewsapiError):
    """The served pipeline is not one this module can explain exactly; the message says why."""


def pipeline_parts(pipeline: Any) -> tuple[CountVectorizer, Any, str]:
    """The pipeline's vectorizer, its classifier and the name of the classifier's weights
    (``coef_`` or ``feature_log_prob_``); :class:`ExplanationError` saying why not, for a
    pipeline no sum of term weights explains exactly."""
    steps = getattr(pipeline, "steps", None)
    if not steps or len(steps) < 2:
        raise ExplanationError("only a pipeline of a vectorizer and a classifier is explained")
    vectorizer, model = pipeline[-2], pipeline[-1]
    kind = _KINDS.get(type(model).__name__)
    if hasattr(model, "calibrated_classifiers_"):
        raise ExplanationError(
            f"the served classifier is calibrated ({type(model).__name__}): it averages the "
            "probabilities of one classifier per fold, which no sum of term weights gives "
            "exactly; serve a model trained without calibrate to explain it"
        )
    if kind is None:
        known = ", ".join(sorted(_KINDS))
        raise ExplanationError(
            f"the served classifier ({type(model).__name__}) is not one newsapi explains "
            f"exactly ({known})"
        )
    if not isinstance(vectorizer, CountVectorizer) or vectorizer.analyzer != "word":
        raise ExplanationError(
            f"the step before the classifier ({type(vectorizer).__name__}) is not a word "
            "vectorizer (TfidfVectorizer or CountVectorizer with analyzer='word')"
        )
    return vectorizer, model, kind.weights


def features_and_scores(
    pipeline: Any, texts: list[str], *, lean: bool | LeanModel = True
) -> tuple[Any, np.ndarray]:
    """The texts' features (CSR, as the vectorizer's ``transform`` gives them) and each
    class's score (texts x classes): through ``lean`` when it is the pipeline's lean form
    (the served model's, compiled once at load), through the pipeline's lean form when it
    compiles and ``lean`` is true, else through scikit-learn."""
    if isinstance(lean, LeanModel):
        compiled: LeanModel | None = lean
    else:
        compiled = lean_of(pipeline) if lean else None
    if compiled is not None and 0 < len(texts) <= ONE_BY_ONE_MAX:
        # as the predictions do (newsapi.serving.lean), a few texts one by one, without
        # building a sparse matrix
        rows = [compiled.row_features(text) for text in texts]
        decisions = [compiled.row_decisions(found, values) for found, values in rows]
        scores = _two_columns(np.array(decisions).reshape(len(texts), compiled.columns))
        if len(rows) == 1:  # the common call: its one row as it is
            [(found, values)] = rows
            return Rows(np.array([0, found.size]), found, values), scores
        indptr = np.zeros(len(texts) + 1, dtype=np.intp)
        np.cumsum([found.size for found, _ in rows], out=indptr[1:])
        found = np.concatenate([found for found, _ in rows])
        return Rows(indptr, found, np.concatenate([values for _, values in rows])), scores
    if compiled is not None:
        matrix = compiled.features(texts)
        return matrix, _two_columns(compiled.decisions_of(matrix))
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        features = pipeline[:-1].transform(texts).tocsr()
        return features, _scores(pipeline[-1], features)


def _scores(model: Any, features: Any) -> np.ndarray:
    """Each class's score as the classifier decides by it: (texts x classes)."""
    if hasattr(model, "feature_log_prob_"):
        return np.asarray(model.predict_joint_log_proba(features), dtype=float)
    return _two_columns(np.asarray(model.decision_function(features), dtype=float))


def _two_columns(decision: np.ndarray) -> np.ndarray:
    """A binary linear model's one score (the second class's against the first) as the two
    classes' scores ``[0, score]``; any other scores as they are."""
    if decision.ndim == 1 or decision.shape[1] == 1:
        decision = decision.reshape(-1)
        decision = np.column_stack([np.zeros_like(decision), decision])
    return decision


# the lean form of each pipeline explained, compiled and checked against scikit-learn once
# (None: it does not compile, scikit-learn computes); weak, so a replaced model is freed
_LEAN: weakref.WeakKeyDictionary[Any, LeanModel | None] = weakref.WeakKeyDictionary()


def lean_of(pipeline: Any) -> LeanModel | None:
    """The pipeline's lean form (compiled and checked once), None when it has none."""
    try:
        return _LEAN[pipeline]
    except KeyError:
        pass
    lean: LeanModel | None
    try:
        lean = compile_pipeline(pipeline)
        check(lean, pipeline)
    # NotCompiledError says what the lean path lacks; whatever else it trips on, scikit-learn
    # still explains (as the predictor falls back, newsapi.serving.predictor)
    except Exception:
        lean = None
    _LEAN[pipeline] = lean
    return lean


def bias_of(model: Any, chosen: np.ndarray, runner_up: np.ndarray) -> np.ndarray:
    """``b[chosen] - b[runner_up]`` of each text: the part of its difference no term
    carries."""
    if hasattr(model, "feature_log_prob_"):
        # ComplementNB adds its prior only when it knows a single class
        if type(model).__name__ == "ComplementNB" and len(model.classes_) > 1:
            return np.zeros(len(chosen))
        prior = np.asarray(model.class_log_prior_, dtype=float)
        return np.asarray(prior[chosen] - prior[runner_up])
    intercept = np.atleast_1d(np.asarray(model.intercept_, dtype=float))
    if intercept.shape[0] == 1:  # two classes: [0, b]
        intercept = np.array([0.0, intercept[0]])
    return np.asarray(intercept[chosen] - intercept[runner_up])


def difference_weights(
    model: Any,
    weights: str,
    chosen: np.ndarray | int,
    runner_up: np.ndarray | int,
    columns: np.ndarray,
) -> np.ndarray:
    """``W[chosen, j] - W[runner_up, j]`` for each (chosen, runner-up, column) triple (or for
    each column, for one chosen class and runner-up)."""
    matrix = getattr(model, weights)
    if matrix.shape[0] == 1:  # two classes, one row of weights for the second: [0, w]
        sign = np.where(chosen == 1, 1.0, -1.0)
        return np.asarray(sign * matrix[0, columns], dtype=float)
    return np.asarray(matrix[chosen, columns] - matrix[runner_up, columns], dtype=float)


# vocabularies are large (the book's model: 35,000 terms): their names are listed once per
# vectorizer
_NAMES: weakref.WeakKeyDictionary[Any, np.ndarray] = weakref.WeakKeyDictionary()


def feature_names(vectorizer: CountVectorizer) -> np.ndarray:
    """The vocabulary's terms by column (listed once per vectorizer)."""
    names = _NAMES.get(vectorizer)
    if names is None:
        names = _NAMES[vectorizer] = vectorizer.get_feature_names_out()
    return names
