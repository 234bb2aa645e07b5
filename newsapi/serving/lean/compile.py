"""Reading a fitted pipeline into a :class:`~newsapi.serving.lean.model.LeanModel`, or saying
what the lean path does not compute."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline

from newsapi.model.params import CLASSIFIER_KINDS
from newsapi.serving.lean.model import LeanModel, NotCompiledError
from newsapi.serving.lean.probabilities import formula_of

NAIVE_BAYES = ("MultinomialNB", "ComplementNB")
_COMPILED = {kind.estimator: kind for kind in CLASSIFIER_KINDS.values()}


def compile_pipeline(pipeline: Any) -> LeanModel:
    """The lean form of a fitted ``TfidfVectorizer`` + one of the five classifiers newsapi
    trains; :class:`NotCompiledError` naming what is not supported otherwise."""
    steps = getattr(pipeline, "steps", None)
    if type(pipeline) is not Pipeline or steps is None or len(steps) != 2:
        kinds = " -> ".join(type(step).__name__ for _, step in steps or [(None, pipeline)])
        raise NotCompiledError(
            f"the pipeline is {kinds}; the lean path computes a Pipeline of a TfidfVectorizer "
            "and one classifier"
        )
    vectorizer, model = steps[0][1], steps[1][1]
    _check_vectorizer(vectorizer)
    name = type(model).__name__
    kind = _COMPILED.get(name)
    if kind is None or not type(model).__module__.startswith("sklearn."):
        raise NotCompiledError(
            f"the classifier is a {name}; the lean path computes {', '.join(_COMPILED)}"
        )
    weights = getattr(model, kind.weights)
    classes = np.asarray(model.classes_)
    features = len(vectorizer.vocabulary_)
    rows = len(classes) if name in NAIVE_BAYES or len(classes) > 2 else 1
    if (
        not isinstance(weights, np.ndarray)
        or weights.dtype != np.float64
        or weights.shape != (rows, features)
    ):
        raise NotCompiledError(
            f"{name}.{kind.weights} is not a dense float64 array of shape ({rows}, {features}); "
            "the lean path computes with dense weights"
        )
    probabilities = formula_of(model)
    if probabilities is None and hasattr(model, "predict_proba"):
        raise NotCompiledError(
            f"{name}({_options(model)}) has probabilities the lean path does not compute"
        )
    offset: np.ndarray | float = 0.0
    if name == "MultinomialNB" or (name == "ComplementNB" and len(classes) == 1):
        offset = np.asarray(model.class_log_prior_)
    elif name not in NAIVE_BAYES:
        offset = model.intercept_ if isinstance(model.intercept_, np.ndarray) else 0.0
    return LeanModel(
        analyze=vectorizer.build_analyzer(),
        vocabulary=vectorizer.vocabulary_,
        idf=vectorizer.idf_ if vectorizer.use_idf else None,
        binary=bool(vectorizer.binary),
        sublinear_tf=bool(vectorizer.sublinear_tf),
        norm=vectorizer.norm,
        weights=weights.T,
        offset=offset,
        classes=classes,
        by_sign=rows == 1 and name not in NAIVE_BAYES,
        probabilities=probabilities,
    )


def _options(model: Any) -> str:
    loss = getattr(model, "loss", None)
    return "" if loss is None else f"loss={loss!r}"


def _check_vectorizer(vectorizer: Any) -> None:
    if type(vectorizer) is not TfidfVectorizer:
        raise NotCompiledError(
            f"the first step is a {type(vectorizer).__name__}; the lean path computes a "
            "TfidfVectorizer"
        )
    unsupported = [
        f"{option}={value!r}"
        for option, value, supported in (
            ("input", vectorizer.input, vectorizer.input == "content"),
            ("analyzer", vectorizer.analyzer, vectorizer.analyzer == "word"),
            ("preprocessor", vectorizer.preprocessor, vectorizer.preprocessor is None),
            ("tokenizer", vectorizer.tokenizer, vectorizer.tokenizer is None),
            ("strip_accents", vectorizer.strip_accents, not callable(vectorizer.strip_accents)),
            ("dtype", vectorizer.dtype, np.dtype(vectorizer.dtype) == np.float64),
            ("norm", vectorizer.norm, vectorizer.norm in ("l1", "l2", None)),
        )
        if not supported
    ]
    if unsupported:
        raise NotCompiledError(
            f"TfidfVectorizer({', '.join(unsupported)}): the lean path computes word tokens "
            "from the built-in analyzer in float64, with the norm l2, l1 or none"
        )
