"""A prediction log record, its Parquet schema, and what the writer measures for it.

The measures (tokens, out-of-vocabulary share, top probability or margin, runner-up) come
from the served model's own arithmetic (:mod:`newsapi.serving.lean`): the vectorizer's
analyzer and vocabulary, and the decision values the answer was chosen from. They are
computed in the writer's thread, never on the request path.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

    from newsapi.serving.predictor import Predictor

ScoreKind = Literal["probability", "margin"]
#: what a record without its text adds to a file before compression, about: the size that
#: file rotation counts (the text's characters are added when it is kept)
RECORD_BYTES = 160


@dataclass(frozen=True, slots=True)
class Record:
    """One logged prediction."""

    time: datetime  #: when the request handed it to the log (UTC)
    request_id: str
    model_version: str
    endpoint: str
    category: str  #: the answer given
    #: "probability": ``score`` is the top probability; "margin": the classifier gives no
    #: probabilities and ``score`` is the top decision value minus the runner-up's
    score_kind: ScoreKind
    score: float
    runner_up: str  #: the category with the next best score
    text_chars: int
    text_tokens: int  #: tokens the model's own vectorizer makes of the text
    oov_share: float | None  #: share of those tokens outside the vocabulary (None: no token)
    digest: bytes  #: the text's cache key (:func:`newsapi.serving.cache.entry_key`)
    trace_id: str | None
    text: str | None  #: only with NEWSAPI_PREDICTION_LOG_TEXT=true


FIELDS = [field.name for field in dataclasses.fields(Record)]


@functools.cache
def schema() -> pa.Schema:
    """The log files' Parquet schema (pyarrow is imported only when the log is used)."""
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("time", pa.timestamp("us", tz="UTC"), nullable=False),
            pa.field("request_id", pa.string(), nullable=False),
            pa.field("model_version", pa.string(), nullable=False),
            pa.field("endpoint", pa.string(), nullable=False),
            pa.field("category", pa.string(), nullable=False),
            pa.field("score_kind", pa.string(), nullable=False),
            pa.field("score", pa.float64(), nullable=False),
            pa.field("runner_up", pa.string(), nullable=False),
            pa.field("text_chars", pa.int32(), nullable=False),
            pa.field("text_tokens", pa.int32(), nullable=False),
            pa.field("oov_share", pa.float64()),
            pa.field("digest", pa.binary(16), nullable=False),
            pa.field("trace_id", pa.string()),
            pa.field("text", pa.string()),
        ]
    )


def as_table(records: Sequence[Record]) -> pa.Table:
    """``records`` as a table of :func:`schema`."""
    import pyarrow as pa

    columns = {name: [getattr(record, name) for record in records] for name in FIELDS}
    return pa.Table.from_batches([as_batch(columns)], schema=schema())


def as_batch(columns: Mapping[str, list[Any]]) -> pa.RecordBatch:
    """Records given as columns (one list per field of :class:`Record`) as a record batch of
    :func:`schema`: the writer builds the columns of each group of records it measures and
    converts them as they come, so that writing a file converts nothing (one conversion of a
    whole file's records held the GIL for tens of milliseconds)."""
    import pyarrow as pa

    return pa.RecordBatch.from_pydict(dict(columns), schema=schema())


@dataclass(frozen=True, slots=True)
class Measures:
    tokens: int
    oov_share: float | None
    score_kind: ScoreKind
    score: float
    runner_up: str


def measure(predictor: Predictor, target_names: Sequence[str], texts: list[str]) -> list[Measures]:
    """The measures of ``texts`` under the served model, each text analysed once."""
    columns = measure_columns(predictor, target_names, texts)
    return [
        Measures(*row)
        for row in zip(*(columns[name] for name in MEASURED), strict=True)  # Measures' order
    ]


#: the fields of :class:`Record` that :func:`measure_columns` gives, in :class:`Measures`' order
MEASURED = ("text_tokens", "oov_share", "score_kind", "score", "runner_up")


def measure_columns(
    predictor: Predictor, target_names: Sequence[str], texts: list[str]
) -> dict[str, list[Any]]:
    """:func:`measure` as columns named as :class:`Record`'s fields (:data:`MEASURED`), one
    value per text: what the log writer adds to its records' columns."""
    lean = predictor.lean
    if lean is not None:
        analyze, vocabulary = lean.analyze, lean.vocabulary
    else:  # scikit-learn serves this model: its vectorizer is the pipeline's first step
        vectorizer = predictor.pipeline[0]
        analyze, vocabulary = vectorizer.build_analyzer(), vectorizer.vocabulary_
    tokens = {text: analyze(text) for text in texts}
    kind: ScoreKind
    if lean is not None:
        # the lean model's own decisions, replaying the tokens instead of analysing again
        replay = dataclasses.replace(lean, analyze=tokens.__getitem__)
        decisions = replay.decisions(texts)
        if lean.probabilities is not None:
            scores, kind = lean.probabilities_of(decisions), "probability"
        else:
            scores, kind = _both_sides(decisions, lean.by_sign), "margin"
    else:
        scores, kind = _sklearn_scores(predictor.pipeline, texts)
    names = np.asarray(target_names, dtype=object)
    # the best and the next best class of every row at once (stable: ties go to the first)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :2]
    rows = np.arange(len(texts))
    top, second = scores[rows, order[:, 0]], scores[rows, order[:, 1]]
    counts, shares = [], []
    for text in texts:
        words = tokens[text]
        counts.append(len(words))
        unknown = sum(1 for word in words if word not in vocabulary)
        shares.append(unknown / len(words) if words else None)
    return {
        "text_tokens": counts,
        "oov_share": shares,
        "score_kind": [kind] * len(texts),
        "score": (top if kind == "probability" else top - second).tolist(),
        "runner_up": [str(name) for name in names[order[:, 1]]],
    }


def _both_sides(decisions: np.ndarray, by_sign: bool) -> np.ndarray:
    """A binary model's single column as two columns (0, s): the class is the second when
    s > 0, as ``by_sign`` decides, and the margin is |s|; other models' decisions as they
    are."""
    if not by_sign:
        return decisions
    return np.column_stack([np.zeros(len(decisions)), decisions[:, 0]])


def _sklearn_scores(pipeline: Any, texts: list[str]) -> tuple[np.ndarray, ScoreKind]:
    if hasattr(pipeline, "predict_proba"):
        return np.asarray(pipeline.predict_proba(texts)), "probability"
    decisions = np.asarray(pipeline.decision_function(texts))
    if decisions.ndim == 1:  # binary: as _both_sides
        decisions = np.column_stack([np.zeros(len(decisions)), decisions])
    return decisions, "margin"
