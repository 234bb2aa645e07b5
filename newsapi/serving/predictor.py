"""The served model's arithmetic, in one place: getting a loaded pipeline ready, and the
categories and probabilities of a list of texts.

:func:`prepare` compiles the pipeline into its lean form (:mod:`.lean`) when it can, checked
against scikit-learn on probe texts; otherwise, and for anything the lean path does not
support, scikit-learn computes, and :attr:`Predictor.fallback` says why. The model thread
(:mod:`.service`) and the bulk process (:mod:`.bulk`) both call :class:`Predictor`, so both
compute exactly the same answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any, Literal

import numpy as np
import sklearn

from newsapi.errors import NewsapiError
from newsapi.serving.lean import LeanModel, NotCompiledError, check, compile_pipeline
from newsapi.serving.lean.model import Counts
from newsapi.serving.startup import lay_out_weights

WARM_UP = ["warm up"]
Inference = Literal["lean", "scikit-learn"]
ScoreKind = Literal["probability", "margin"]
#: what the prediction log records of a text beside its answer, computed with the served
#: model's arithmetic (:meth:`Predictor.measure`): its tokens in the model's vectorizer, the
#: share of them outside the vocabulary (None: no token), the score's kind, the score (the
#: top probability, or the top decision value minus the runner-up's) and the runner-up
Measured = tuple[int, float | None, ScoreKind, float, str]
#: what the lean path computes of a text beside its category, for the prediction log
#: (:meth:`Predictor.categories_figured`): its row of decision values, its tokens, and how
#: many of them are outside the vocabulary. :meth:`Predictor.measured` makes the
#: :data:`Measured` of many at once, a few vector operations for them all.
Figures = tuple[np.ndarray, int, int]
FIGURE_FIELDS = [itemgetter(0), itemgetter(1), itemgetter(2)]
#: :data:`Measured` of many texts as columns, one list per field
MeasuredColumns = tuple[list[int], list[float | None], list[ScoreKind], list[float], list[str]]


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

    def categories_figured(
        self, target_names: Sequence[str], texts: Sequence[str]
    ) -> tuple[list[str], list[Figures] | None]:
        """:meth:`categories`, and on the lean path each text's :data:`Figures` from the same
        analysis (what :meth:`measured` turns into the :meth:`measure` of the text, bit for
        bit); None where scikit-learn computes: the prediction log measures those itself."""
        lean = self.lean
        if lean is None:
            return self.categories(list(target_names), list(texts)), None
        decisions, (tokens, unknown) = lean.decisions_counted(texts)
        labels = lean.labels_of(decisions)
        categories: list[str] = np.asarray(target_names, dtype=object)[labels].tolist()
        return categories, list(zip(decisions, tokens, unknown, strict=True))

    def measured(self, target_names: Sequence[str], figures: Sequence[Figures]) -> list[Measured]:
        """The :data:`Measured` of texts from their :data:`Figures` (computed by this
        predictor's lean path), all at once."""
        return list(zip(*self.measured_columns(target_names, figures), strict=True))

    def measured_columns(
        self, target_names: Sequence[str], figures: Sequence[Figures]
    ) -> MeasuredColumns:
        """:meth:`measured` as columns, one list per field of :data:`Measured` (the
        prediction log's writer stores columns: no tuple per text made and taken apart)."""
        # each field in C (map), not zip(*figures): that makes an iterator object per text
        rows, tokens, unknown = (list(map(get, figures)) for get in FIGURE_FIELDS)
        return self.measured_of(target_names, rows, tokens, unknown)

    def measured_of(
        self,
        target_names: Sequence[str],
        rows: list[np.ndarray],
        tokens: list[int],
        unknown: list[int],
    ) -> MeasuredColumns:
        """:meth:`measured_columns` of figures given as their three columns."""
        if self.lean is None:
            raise NotCompiledError("figures come from the lean path")
        if not rows:
            return [], [], [], [], []
        names = np.asarray(target_names, dtype=object)
        # one buffer for the rows, then the shape: np.stack's checks of each row cost more
        decisions = np.concatenate(rows).reshape(len(rows), -1)
        return _measured(self.lean, names, decisions, (tokens, unknown))

    def measure(self, target_names: Sequence[str], texts: Sequence[str]) -> list[Measured]:
        """Each text's :data:`Measured`, under the served model: the lean form's analyzer,
        vocabulary and decision values (as :meth:`categories_figured` computes them), else
        the pipeline's vectorizer and scikit-learn's scores."""
        names = np.asarray(target_names, dtype=object)
        if self.lean is not None:
            decisions, counts = self.lean.decisions_counted(texts)
            columns = _measured(self.lean, names, decisions, counts)
        else:
            vectorizer = self.pipeline[0]
            analyze, vocabulary = vectorizer.build_analyzer(), vectorizer.vocabulary_
            tokens = [analyze(text) for text in texts]
            unknown = [sum(1 for word in words if word not in vocabulary) for words in tokens]
            with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
                scores, kind = _sklearn_scores(self.pipeline, list(texts))
            columns = _columns(names, scores, kind, ([len(words) for words in tokens], unknown))
        return list(zip(*columns, strict=True))

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


def _measured(
    lean: LeanModel, names: np.ndarray, decisions: np.ndarray, counts: Counts
) -> MeasuredColumns:
    if lean.probabilities is not None:
        return _columns(names, lean.probabilities_of(decisions), "probability", counts)
    if lean.by_sign:  # one column s: as two, (0, s), so the margin is |s|
        decisions = np.column_stack([np.zeros(len(decisions)), decisions[:, 0]])
    return _columns(names, decisions, "margin", counts)


def _sklearn_scores(pipeline: Any, texts: list[str]) -> tuple[np.ndarray, ScoreKind]:
    if hasattr(pipeline, "predict_proba"):
        return np.asarray(pipeline.predict_proba(texts)), "probability"
    decisions = np.asarray(pipeline.decision_function(texts)).reshape(len(texts), -1)
    if decisions.shape[1] == 1:  # binary: as _measured
        decisions = np.column_stack([np.zeros(len(decisions)), decisions[:, 0]])
    return decisions, "margin"


def _columns(
    names: np.ndarray, scores: np.ndarray, kind: ScoreKind, counts: Counts
) -> MeasuredColumns:
    """The :data:`Measured` of each row of ``scores`` (texts x classes) and of ``counts``,
    as columns."""
    # the best and the next best class of every row at once (stable: ties go to the first)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :2]
    rows = np.arange(len(scores))
    top, second = scores[rows, order[:, 0]], scores[rows, order[:, 1]]
    tokens, unknown = counts
    counted = np.asarray(tokens, dtype=np.float64)
    shares: list[float | None] = (np.asarray(unknown) / np.maximum(counted, 1)).tolist()
    for i in np.flatnonzero(counted == 0).tolist():  # no token: no share
        shares[i] = None
    score = (top if kind == "probability" else top - second).tolist()
    return list(tokens), shares, [kind] * len(score), score, names[order[:, 1]].tolist()


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
