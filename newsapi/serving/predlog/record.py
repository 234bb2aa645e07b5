"""A prediction log record, its Parquet schema, and its measures.

The measures (tokens, out-of-vocabulary share, top probability or margin, runner-up) come
from the served model's own arithmetic (:meth:`newsapi.serving.predictor.Predictor.measure`):
the vectorizer's analyzer and vocabulary, and the decision values the answer was chosen
from. A text the lean path computed has them from that computation, at a vector operation
per model call (:meth:`~newsapi.serving.predictor.Predictor.categories_measured`); the log
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
from itertools import chain, repeat
from typing import TYPE_CHECKING, Any

import numpy as np

from newsapi.serving.cache import entry_keys

if TYPE_CHECKING:
    import pyarrow as pa

    from newsapi.serving.predictor import Figures, Measured, Predictor, ScoreKind
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
    """Records given as columns (one list per field of :class:`Record`; the times as
    datetimes or as microseconds since the epoch) as a record batch of :func:`schema`: the
    writer builds the columns of each group of records it measures and
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
    """The measures of ``texts`` under the served model (:meth:`Predictor.measure`)."""
    return [Measures(*row) for row in predictor.measure(target_names, texts)]


#: the fields of :class:`Record` that :data:`~newsapi.serving.predictor.Measured` gives, in
#: its order (and :class:`Measures`')
MEASURED = ("text_tokens", "oov_share", "score_kind", "score", "runner_up")


#: what :meth:`~newsapi.serving.predlog.PredictionLog.submit` queues for one call: the time
#: (seconds since the epoch), endpoint, request id, model version, predictor, target names,
#: texts, categories, cache keys (or None), trace id, the texts sampled (None: all), the
#: bytes it counts in the queue, and each text's :data:`~newsapi.serving.predictor.Figures`
#: (or None: measured here)
Call = tuple[Any, ...]


def columns_of(calls: Sequence[Call], keep_text: bool, chunk: int) -> dict[str, list[Any]]:
    """The records of ``calls`` answered by one model, as columns (one list per field of
    :class:`Record`; the time in microseconds since the epoch). The texts that came with
    their figures get their measures from them, all at once; the others (cache hits,
    scikit-learn's answers) are measured here, ``chunk`` texts per model call with the GIL
    let go between them: the same measures either way."""
    calls = [call if call[10] is None else _sampled(call) for call in calls]
    # the calls' fields as columns: the loops over texts run in C (chain), not per record
    when, endpoints, request_ids, versions, _, _, sent, answers, keys, trace_ids, *_, given = zip(
        *calls, strict=True
    )
    texts: list[str] = list(chain.from_iterable(sent))
    if None in keys:  # the writer computes the cache keys of the calls that came without
        keys = tuple(entry_keys(version, part) if got is None else got
                     for version, part, got in zip(versions, sent, keys, strict=True))  # fmt: skip
    figures: list[Figures | None] = list(
        chain.from_iterable(
            repeat(None, len(part)) if figured is None else figured
            for part, figured in zip(sent, given, strict=True)
        )
    )
    each_call: list[Sequence[Any]] = [when, endpoints, request_ids, versions, trace_ids]
    counts = list(map(len, sent))
    if any(count != 1 for count in counts):  # one value per text, not per call
        each_call = [list(chain.from_iterable(map(repeat, values, counts))) for values in each_call]
    times, *strings = map(list, each_call)
    microseconds = np.round(np.asarray(times, dtype=np.float64) * 1e6).astype(np.int64)
    columns = {
        "time": microseconds.tolist(),
        **dict(zip(("endpoint", "request_id", "model_version", "trace_id"), strings, strict=True)),
        "category": list(chain.from_iterable(answers)),
        "text_chars": list(map(len, texts)),
        "digest": list(chain.from_iterable(keys)),
        "text": texts if keep_text else [None] * len(texts),
    }
    measures = _measures(calls[0][4], calls[0][5], texts, figures, chunk)
    rows = zip(*measures, strict=True) if measures else repeat([], len(MEASURED))
    columns.update(zip(MEASURED, map(list, rows), strict=True))
    return columns


def _sampled(call: Call) -> Call:
    """``call`` with only the texts its sample chose (and their categories, keys, figures)."""
    chosen = call[10]
    sent, answers, keys, given = ([part[i] for i in chosen] if part is not None else None
                                  for part in (call[6], call[7], call[8], call[12]))  # fmt: skip
    return (*call[:6], sent, answers, keys, *call[9:12], given)


def _measures(
    predictor: Predictor,
    names: Sequence[str],
    texts: list[str],
    figures: list[Figures | None],
    chunk: int,
) -> list[Measured]:
    """Each text's measures: from its figures where it has them, else measured."""
    given = [figure for figure in figures if figure is not None]
    if len(given) == len(texts):  # the model computed every text: no index to map
        return predictor.measured(names, given)
    measures: list[Any] = list(figures)
    if given:
        have = [i for i, figure in enumerate(figures) if figure is not None]
        for i, measure in zip(have, predictor.measured(names, given), strict=True):
            measures[i] = measure
    missing = [i for i, figure in enumerate(figures) if figure is None]
    for start in range(0, len(missing), chunk):
        part = missing[start : start + chunk]
        for i, measure in zip(
            part, predictor.measure(names, [texts[i] for i in part]), strict=True
        ):
            measures[i] = measure
        time.sleep(0)  # the GIL back to the event loop between chunks
    return measures
