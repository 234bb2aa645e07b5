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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import numpy as np

from newsapi.serving.cache import entry_key

if TYPE_CHECKING:
    import pyarrow as pa

    from newsapi.serving.predictor import Predictor, ScoreKind
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


#: what :meth:`~newsapi.serving.predlog.PredictionLog.submit` queues for one text (a request of
#: one text, the usual call): a flat tuple of the time (seconds since the epoch), endpoint,
#: request id, model version, text, category, cache key (or None), the three parts of its
#: :data:`~newsapi.serving.predictor.Figures` (or three None: measured by the writer), trace
#: id and the bytes it counts in the queue. Flat, and only strings, numbers and a row of
#: decision values in it: it waits in the queue for up to a writer's poll, and a tuple that
#: refers to no container (not the predictor or the target names, which the log finds by the
#: model version; not even the figures' tuple) is one that Python's garbage collector stops
#: tracking at the first collection it meets, instead of walking it in each older
#: generation's collection until it is written.
Entry = tuple[Any, ...]
(WHEN, ENDPOINT, REQUEST_ID, VERSION, TEXT, CATEGORY, KEY, ROW, TOKENS, UNKNOWN, TRACE_ID,
 SIZE) = range(12)  # fmt: skip
ENTRY_FIELDS = 12
COLUMN_GETTERS = [itemgetter(field) for field in (WHEN, ENDPOINT, REQUEST_ID, VERSION, TEXT,
                                                  CATEGORY, KEY, ROW, TOKENS, UNKNOWN,
                                                  TRACE_ID)]  # fmt: skip
#: what it queues for a call of several texts: an :data:`Entry` whose text, category and key
#: fields hold the call's lists (keys: or None), whose row field holds the list of the texts'
#: figures (or None; the tokens and unknown fields are unused), and one field more, the
#: indexes its sample chose (None: all); the writer makes the entries (:func:`entries_of`),
#: so that a large call costs the request path no loop over its texts
Call = tuple[Any, ...]
CHOSEN = ENTRY_FIELDS
NO_FIGURES = (None, None, None)


def entries_of(call: Call) -> Iterable[Entry]:
    """The :data:`Entry` of each text of ``call`` that its sample chose; the call's bytes go
    with the first."""
    *fields, chosen = call
    texts, categories, keys, figures = (fields[i] for i in (TEXT, CATEGORY, KEY, ROW))
    if chosen is not None:
        texts, categories, keys, figures = (
            None if part is None else [part[i] for i in chosen]
            for part in (texts, categories, keys, figures)
        )
    parts: list[Iterable[Any]] = [repeat(None)] * 3
    if figures is not None:
        filled = [NO_FIGURES if figure is None else figure for figure in figures]
        parts = [map(itemgetter(i), filled) for i in range(3)]
    same = [repeat(value) for value in fields[:TEXT]]
    return zip(
        *same, texts, categories,
        repeat(None) if keys is None else keys,
        *parts,
        repeat(fields[TRACE_ID]), chain((fields[SIZE],), repeat(0)),
    )  # fmt: skip


def columns_of(
    entries: Sequence[Entry],
    predictor: Predictor,
    names: Sequence[str],
    keep_text: bool,
    chunk: int,
) -> dict[str, Column]:
    """The records of ``entries`` answered by one model (``predictor``, with the artifact's
    ``names``), as columns (one list per field of
    :class:`Record`; the time, a NumPy array of microseconds since the epoch). The texts that
    came with their figures get their measures from them, all at once; the others (cache
    hits, scikit-learn's answers) are measured here, ``chunk`` texts per model call with the
    GIL let go between them: the same measures either way."""
    # the entries' fields as columns: the loops over texts run in C (map), not per record;
    # not zip(*entries), which makes an iterator object per entry for the collector to see
    (when, endpoints, request_ids, versions, texts, categories, keys, rows, tokens, unknown,
     trace_ids) = (list(map(get, entries)) for get in COLUMN_GETTERS)  # fmt: skip
    if None in keys:  # the writer computes the cache keys of the texts that came without
        keys = [entry_key(version, text) if key is None else key
                for version, text, key in zip(versions, texts, keys, strict=True)]  # fmt: skip
    microseconds = np.round(np.asarray(when, dtype=np.float64) * 1e6).astype(np.int64)
    columns: dict[str, Column] = {
        "time": microseconds,
        "endpoint": endpoints,
        "request_id": request_ids,
        "model_version": versions,
        "trace_id": trace_ids,
        "category": categories,
        "text_chars": list(map(len, texts)),
        "digest": keys,
        "text": texts if keep_text else [None] * len(texts),
    }
    measured = _measures(predictor, names, texts, (rows, tokens, unknown), chunk)
    columns.update(zip(MEASURED, measured, strict=True))
    return columns


def _measures(
    predictor: Predictor,
    names: Sequence[str],
    texts: list[str],
    figures: tuple[list[Any], list[Any], list[Any]],
    chunk: int,
) -> Sequence[list[Any]]:
    """Each text's measures, as columns (:data:`MEASURED`): from its ``figures`` (given as
    columns: the rows, the token counts and the unknown counts, None for a text without)
    where it has them, else measured."""
    rows, tokens, unknown = figures
    if None not in tokens:  # the model computed every text: no index to map
        return predictor.measured_of(names, rows, tokens, unknown)
    measures: list[Any] = [None] * len(texts)
    have = [i for i, count in enumerate(tokens) if count is not None]
    if have:
        given = [[part[i] for i in have] for part in figures]
        columns = predictor.measured_of(names, *given)
        for i, measure in zip(have, zip(*columns, strict=True), strict=True):
            measures[i] = measure
    missing = [i for i, count in enumerate(tokens) if count is None]
    for start in range(0, len(missing), chunk):
        part = missing[start : start + chunk]
        for i, measure in zip(
            part, predictor.measure(names, [texts[i] for i in part]), strict=True
        ):
            measures[i] = measure
        time.sleep(0)  # the GIL back to the event loop between chunks
    return [list(column) for column in zip(*measures, strict=True)]
