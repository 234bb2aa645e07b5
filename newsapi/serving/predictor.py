"""The served model's arithmetic, in one place: getting a loaded pipeline ready, and the
categories and probabilities of a list of texts.

The model thread (:mod:`.service`) and the bulk process (:mod:`.bulk`) both call these
functions, so both compute exactly the same answers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sklearn

from newsapi.errors import NewsapiError
from newsapi.serving.startup import lay_out_weights

WARM_UP = ["warm up"]


class NoScoresError(NewsapiError):
    """The served classifier has no ``predict_proba``; the message names it."""


def prepare(pipeline: Any) -> None:
    """Lay out the weights for ``predict`` and predict once: the first call builds lazy
    state, and it proves that the pipeline can predict at all (it raises otherwise)."""
    lay_out_weights(pipeline)
    predict_labels(pipeline, WARM_UP)


def predict_labels(pipeline: Any, texts: list[str]) -> Any:
    """The label of each text (indexes into the artifact's target names), as an array."""
    # the inputs are texts the request layer validated: scikit-learn's own checks can go
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        return pipeline.predict(texts)


def categories_of(pipeline: Any, target_names: list[str], texts: list[str]) -> list[str]:
    """The category of each text."""
    labels = predict_labels(pipeline, texts)
    names: list[str] = np.asarray(target_names, dtype=object)[labels].tolist()
    return names


def has_scores(pipeline: Any) -> bool:
    """Whether the pipeline gives per-category probabilities."""
    return hasattr(pipeline, "predict_proba")


def scores_of(
    pipeline: Any, target_names: list[str], texts: list[str]
) -> list[tuple[str, dict[str, float]]]:
    """Each text's category and probability per category (rounded to 6 digits)."""
    if not has_scores(pipeline):
        raise NoScoresError(
            f"the served classifier ({type(pipeline[-1]).__name__}) gives no probabilities"
        )
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        features = pipeline[:-1].transform(texts)
        model = pipeline[-1]
        labels = model.predict(features)
        proba = np.asarray(model.predict_proba(features))
    return [
        (
            target_names[label],
            {n: round(float(p), 6) for n, p in zip(target_names, row, strict=True)},
        )
        for label, row in zip(labels, proba, strict=True)
    ]
