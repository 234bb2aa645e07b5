"""The served model's arithmetic, in one place: getting a loaded pipeline ready, and the
categories and probabilities of a list of texts.

:func:`prepare` compiles the pipeline into its lean form (:mod:`.lean`) when it can, checked
against scikit-learn on probe texts; otherwise, and for anything the lean path does not
support, scikit-learn computes, and :attr:`Predictor.fallback` says why. The model thread
(:mod:`.service`) and the bulk process (:mod:`.bulk`) both call :class:`Predictor`, so both
compute exactly the same answers.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import sklearn

from newsapi.errors import NewsapiError
from newsapi.serving.lean import LeanModel, NotCompiledError, check, compile_pipeline
from newsapi.serving.startup import lay_out_weights

WARM_UP = ["warm up"]
Inference = Literal["lean", "scikit-learn"]


class NoScoresError(NewsapiError):
    """The served classifier has no ``predict_proba``; the message names it."""


class Predictor:
    """A loaded pipeline, ready to predict: through its lean form when it has one, else
    through scikit-learn. Build it with :func:`prepare`."""

    def __init__(self, pipeline: Any, lean: LeanModel | None, fallback: str | None) -> None:
        self.pipeline = pipeline
        self.lean = lean
        #: why scikit-learn computes this model (None when the lean path does)
        self.fallback = fallback

    @property
    def inference(self) -> Inference:
        """Which path computes the answers."""
        return "lean" if self.lean is not None else "scikit-learn"

    @property
    def has_scores(self) -> bool:
        return has_scores(self.pipeline)

    def labels(self, texts: list[str]) -> np.ndarray:
        """The label of each text (indexes into the artifact's target names), as an array."""
        if self.lean is not None:
            return self.lean.labels(texts)
        # the inputs are texts the request layer validated: scikit-learn's own checks can go
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            labels: np.ndarray = self.pipeline.predict(texts)
            return labels

    def categories(self, target_names: list[str], texts: list[str]) -> list[str]:
        """The category of each text."""
        names: list[str] = np.asarray(target_names, dtype=object)[self.labels(texts)].tolist()
        return names

    def scores(
        self, target_names: list[str], texts: list[str]
    ) -> list[tuple[str, dict[str, float]]]:
        """Each text's category and probability per category (rounded to 6 digits)."""
        if not self.has_scores:
            raise NoScoresError(
                f"the served classifier ({type(self.pipeline[-1]).__name__}) gives no probabilities"
            )
        if self.lean is not None:
            decisions = self.lean.decisions(texts)
            labels = self.lean.labels_of(decisions)
            proba = self.lean.probabilities_of(decisions)
        else:
            with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
                features = self.pipeline[:-1].transform(texts)
                model = self.pipeline[-1]
                labels = model.predict(features)
                proba = np.asarray(model.predict_proba(features))
        return [
            (
                target_names[label],
                {n: round(float(p), 6) for n, p in zip(target_names, row, strict=True)},
            )
            for label, row in zip(labels, proba, strict=True)
        ]


def prepare(pipeline: Any) -> Predictor:
    """Lay out the weights, compile the lean form (checked against scikit-learn on probe
    texts; any failure keeps scikit-learn, with the reason) and predict once: the first call
    builds lazy state, and it proves that the pipeline can predict at all (it raises
    otherwise)."""
    lay_out_weights(pipeline)
    lean: LeanModel | None = None
    fallback: str | None = None
    try:
        lean = compile_pipeline(pipeline)
        check(lean, pipeline)
    except NotCompiledError as exc:
        lean, fallback = None, str(exc)
    except Exception as exc:  # whatever the lean path trips on, scikit-learn still serves
        lean, fallback = None, f"the lean path could not be built ({exc!r})"
    predictor = Predictor(pipeline, lean, fallback)
    predictor.labels(WARM_UP)
    return predictor


def has_scores(pipeline: Any) -> bool:
    """Whether the pipeline gives per-category probabilities."""
    return hasattr(pipeline, "predict_proba")


# The same answers as functions of a Predictor, or of a bare fitted pipeline (computed by
# scikit-learn, since it was not prepared): for callers that hold either.
def _predictor_of(model: Predictor | Any) -> Predictor:
    if isinstance(model, Predictor):
        return model
    return Predictor(model, None, "the pipeline was not prepared")


def predict_labels(model: Predictor | Any, texts: list[str]) -> np.ndarray:
    """:meth:`Predictor.labels` of a predictor or a fitted pipeline."""
    return _predictor_of(model).labels(texts)


def categories_of(model: Predictor | Any, target_names: list[str], texts: list[str]) -> list[str]:
    """:meth:`Predictor.categories` of a predictor or a fitted pipeline."""
    return _predictor_of(model).categories(target_names, texts)


def scores_of(
    model: Predictor | Any, target_names: list[str], texts: list[str]
) -> list[tuple[str, dict[str, float]]]:
    """:meth:`Predictor.scores` of a predictor or a fitted pipeline."""
    return _predictor_of(model).scores(target_names, texts)
