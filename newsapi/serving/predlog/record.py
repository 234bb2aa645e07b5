"""A prediction log record, its Parquet schema, and its measures.

The measures (tokens, out-of-vocabulary share, top probability or margin, runner-up) come
from the served model's own arithmetic (:meth:`newsapi.serving.predictor.Predictor.measure`):
the vectorizer's analyzer and vocabulary, and the decision values the answer was chosen
from. A text the lean path computed has them from that computation, at a vector operation
per model call (:meth:`~newsapi.serving.predictor.Predictor.categories_figured`); the log
writer's thread measures the others (cache hits, scikit-learn's answers) with the same
function, so a record is the same whichever path made it.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from newsapi.serving.cache import entry_key

if TYPE_CHECKING:
    import pyarrow as pa

    from newsapi.serving.predictor import Figures, Predictor, ScoreKind
#: one column of records: a list of values, or a NumPy array (the times)
Column = Sequence[Any] | np.ndarray

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


def as_batch(columns: Mapping[str, Column]) -> pa.RecordBatch:
    """Records given as columns (one list per field of :class:`Record`, or a NumPy array;
    the times as datetimes or as microseconds since the epoch) as a record batch of
    :func:`schema`: the writer builds the columns of each group of records it measures and
    converts them as they come, so that writing a file converts nothing (one conversion of a
    whole file's records held the GIL for tens of milliseconds)."""
    import pyarrow as pa

    arrays = [_array(pa, field, columns[field.name]) for field in schema()]
    return pa.RecordBatch.from_arrays(arrays, schema=schema())


#: the fields whose values the records of one group nearly always share: converted once
SHARED = frozenset({"model_version", "endpoint", "score_kind"})


def _array(pa: Any, field: pa.Field, values: Column) -> pa.Array:
    """One column as Arrow, converted value by value only where it has to be: the writer's
    thread holds the GIL while it converts."""
    kind, count = field.type, len(values)
    if isinstance(values, list) and count:
        first = values[0]
        if first is None and values.count(None) == count:  # no trace id, no text kept
            return pa.nulls(count, kind)
        if field.name in SHARED and values.count(first) == count:
            return pa.repeat(pa.scalar(first, kind), count)
        if isinstance(kind, pa.FixedSizeBinaryType) and set(map(len, values)) == {kind.byte_width}:
            buffer = pa.py_buffer(b"".join(values))  # the digests, in one buffer
            return pa.FixedSizeBinaryArray.from_buffers(kind, count, [None, buffer])
    return pa.array(values, type=kind)


@dataclass(frozen=True, slots=True)
class Measures:
    tokens: int
    oov_share: float | None
    score_kind: ScoreKind
    score: float
    runner_up: str


def measure(predictor: Predictor, target_names: Sequence[str], texts: list[str]) -> list[Measures]:
    """The measures of ``texts`` under the served model (:meth:`Predictor.measure`)."""
    return [Measures(*row) for row in predictor.measure(target_names, texts)]


#: the fields of :class:`Record` that :data:`~newsapi.serving.predictor.Measured` gives, in
#: its order (and :class:`Measures`')
MEASURED = ("text_tokens", "oov_share", "score_kind", "score", "runner_up")


class Waiting:
    """Records handed to the log and not yet taken by its writer's thread, as columns: one
    list per field, each record appended to every one of them (under the log's lock). Handing
    a record over makes no object for it (the request's own strings, its cache key and its
    figures are referred to as they are), so the garbage collector has nothing more to track
    while it waits, and the writer takes all of them at once (a new :class:`Waiting` put in
    their place), already columns. It holds the models they were answered by, by version:
    a model replaced by a reload is let go with the last records it answered."""

    __slots__ = ("bytes", "category", "chars", "endpoint", "figures", "key", "models",
                 "request_id", "text", "trace_id", "version", "when")  # fmt: skip

    def __init__(self) -> None:
        self.when: list[float] = []  #: seconds since the epoch
        self.endpoint: list[str] = []
        self.request_id: list[str] = []
        self.version: list[str] = []
        #: the text where the writer needs it (kept, measured, or its key computed), else None
        self.text: list[str | None] = []
        self.chars: list[int] = []
        self.category: list[str] = []
        self.key: list[bytes | None] = []  #: the cache key, or None: the writer computes it
        #: the :data:`~newsapi.serving.predictor.Figures` computed with the answer, or None:
        #: the writer measures the text
        self.figures: list[Figures | None] = []
        self.trace_id: list[str | None] = []
        self.models: dict[str, tuple[Predictor, tuple[str, ...]]] = {}
        self.bytes = 0  #: what they hold, as :meth:`PredictionLog.submit` counts it

    def __len__(self) -> int:
        return len(self.when)

    def runs(self) -> list[tuple[str, int, int]]:
        """``(version, start, stop)`` of each run of consecutive records answered by the same
        model version (one run but across a reload)."""
        versions = self.version
        if not versions:
            return []
        if versions.count(versions[0]) == len(versions):
            return [(versions[0], 0, len(versions))]
        found, start = [], 0
        for version, run in groupby(versions):
            stop = start + sum(1 for _ in run)
            found.append((version, start, stop))
            start = stop
        return found


def columns_of(
    waiting: Waiting,
    start: int,
    stop: int,
    predictor: Predictor,
    names: Sequence[str],
    keep_text: bool,
    chunk: int,
) -> dict[str, Column]:
    """The records ``start:stop`` of ``waiting``, answered by one model (``predictor``, with
    the artifact's ``names``), as columns (one list per field of :class:`Record`; the time, a
    NumPy array of microseconds since the epoch). The texts that came with their figures get
    their measures from them, all at once; the others (cache hits, scikit-learn's answers)
    are measured here, ``chunk`` texts per model call with the GIL let go between them: the
    same measures either way."""
    whole = start == 0 and stop == len(waiting)
    part = slice(start, stop)

    def column(values: list[Any]) -> list[Any]:
        return values if whole else values[part]

    versions, texts, keys = column(waiting.version), column(waiting.text), column(waiting.key)
    if None in keys:  # the writer computes the cache keys of the texts that came without
        keys = [entry_key(version, cast(str, text)) if key is None else key
                for version, text, key in zip(versions, texts, keys, strict=True)]  # fmt: skip
    microseconds = np.round(np.asarray(column(waiting.when), np.float64) * 1e6).astype(np.int64)
    columns: dict[str, Column] = {
        "time": microseconds,
        "endpoint": column(waiting.endpoint),
        "request_id": column(waiting.request_id),
        "model_version": versions,
        "trace_id": column(waiting.trace_id),
        "category": column(waiting.category),
        "text_chars": column(waiting.chars),
        "digest": keys,
        "text": texts if keep_text else [None] * len(texts),
    }
    measured = _measures(predictor, names, texts, column(waiting.figures), chunk)
    columns.update(zip(MEASURED, measured, strict=True))
    return columns


def _measures(
    predictor: Predictor,
    names: Sequence[str],
    texts: list[str | None],
    figures: list[Figures | None],
    chunk: int,
) -> Sequence[list[Any]]:
    """Each text's measures, as columns (:data:`MEASURED`): from its ``figures`` where it
    has them, else measured (the text is there: :meth:`PredictionLog.submit` keeps the text
    of a record without figures)."""
    if None not in figures:  # the model computed every text: no index to map
        return predictor.measured_columns(names, cast("list[Figures]", figures))
    measures: list[Any] = [None] * len(texts)
    have = [i for i, figure in enumerate(figures) if figure is not None]
    if have:
        columns = predictor.measured_columns(names, [cast("Figures", figures[i]) for i in have])
        for i, measure in zip(have, zip(*columns, strict=True), strict=True):
            measures[i] = measure
    missing = [i for i, figure in enumerate(figures) if figure is None]
    for start in range(0, len(missing), chunk):
        part = missing[start : start + chunk]
        measured = predictor.measure(names, [cast(str, texts[i]) for i in part])
        for i, measure in zip(part, measured, strict=True):
            measures[i] = measure
        time.sleep(0)  # the GIL back to the event loop between chunks
    return [list(column) for column in zip(*measures, strict=True)]
