"""One batch of rows in, one batch of answers out: the texts decoded, the rows that cannot be
read as text set aside (counted, a null category), and the rest classified by
:mod:`newsapi.serving.predictor`, the served model's own arithmetic, so that every answer is
the one ``/predictions`` gives for the same text (``?scores=true`` for the scores)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from newsapi.scoring.sources import InputError, Plan, RawBatch
from newsapi.serving.predictor import categories_of, has_scores, scores_of

CATEGORY = "category"
#: why a row got no category: what ``/predictions`` would refuse, or what is not text at all
REASONS = ("null", "empty", "not UTF-8")


@dataclass
class Unread:
    """Rows that could not be read as text, by reason."""

    null: int = 0
    empty: int = 0
    not_utf8: int = 0

    @property
    def total(self) -> int:
        return self.null + self.empty + self.not_utf8

    def add(self, other: Unread) -> None:
        self.null += other.null
        self.empty += other.empty
        self.not_utf8 += other.not_utf8

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def describe(self) -> str:
        """``"3 null, 1 empty"``: the reasons that occurred."""
        parts = [(self.null, "null"), (self.empty, "empty"), (self.not_utf8, "not UTF-8")]
        return ", ".join(f"{count} {what}" for count, what in parts if count)


@dataclass(frozen=True)
class Scorer:
    """A model ready to predict (the server's :class:`~newsapi.serving.predictor.Predictor`)
    and what the output holds: the schema, and whether the per-category probabilities are
    wanted and rows without text refused."""

    predictor: Any
    target_names: list[str]
    schema: pa.Schema
    scores: bool
    strict: bool

    def score(self, plan: Plan, batch: RawBatch, first_row: int) -> tuple[pa.RecordBatch, Unread]:
        """The answers for ``batch``, whose first row is row ``first_row`` of the input."""
        count = len(batch.texts)
        ids = batch.ids
        if ids is None:
            ids = pa.array(np.arange(first_row, first_row + count, dtype=np.int64))
        ids = ids.cast(self.schema.field(0).type)
        texts, unread, reasons = decode(batch.texts)
        if self.strict and unread.total:
            at = next(i for i, reason in enumerate(reasons) if reason)
            raise InputError(
                f"{plan.input}: {plan.id_name} {ids[at].as_py()!r} has no text "
                f"({reasons[at]}); --strict refuses such rows"
            )
        readable = [i for i, reason in enumerate(reasons) if reason is None]
        wanted = [texts[i] for i in readable]
        categories: list[str | None] = [None] * count
        columns: list[pa.Array] = []
        if self.scores:
            probabilities = np.full((count, len(self.target_names)), np.nan)
            if wanted:
                scored = scores_of(self.predictor, self.target_names, wanted)  # type: ignore[arg-type]
                for i, (category, per_name) in zip(readable, scored, strict=True):
                    categories[i] = category
                    probabilities[i] = [per_name[name] for name in self.target_names]
            mask = np.array([reason is not None for reason in reasons])
            columns = [
                pa.array(probabilities[:, j], pa.float64(), mask=mask)
                for j in range(len(self.target_names))
            ]
        elif wanted:
            answers = categories_of(self.predictor, self.target_names, wanted)  # type: ignore[arg-type]
            for i, category in zip(readable, answers, strict=True):
                categories[i] = category
        arrays = [ids, pa.array(categories, pa.string()), *columns]
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema), unread


def decode(values: pa.Array) -> tuple[list[str | None], Unread, list[str | None]]:
    """The texts of a string or binary column, the count of rows that are no text, and for
    each row why it is not (None: it is a text ``/predictions`` would take)."""
    if pa.types.is_binary(values.type) or pa.types.is_large_binary(values.type):
        try:
            texts: list[Any] = values.cast(pa.string()).to_pylist()
        except pa.ArrowInvalid:  # some value is not UTF-8: decode row by row
            texts = [_utf8(value) for value in values.to_pylist()]
    else:
        texts = values.to_pylist()
    unread = Unread()
    reasons: list[str | None] = []
    for text in texts:
        if text is None:
            unread.null += 1
            reasons.append("null")
        elif isinstance(text, bytes):
            unread.not_utf8 += 1
            reasons.append("not UTF-8")
        elif not text:
            unread.empty += 1
            reasons.append("empty")
        else:
            reasons.append(None)
    return texts, unread, reasons


def _utf8(value: bytes | None) -> str | bytes | None:
    """The text, or the bytes themselves when they are not UTF-8 (set aside by the caller)."""
    if value is None:
        return None
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value


def output_schema(
    plan: Plan, target_names: list[str], scores: bool, metadata: dict[str, Any]
) -> pa.Schema:
    """The id column, ``category``, with ``scores`` one probability column per category, and
    the run's description under the key ``newsapi`` (Parquet key-value metadata)."""
    names = [plan.id_name, CATEGORY, *(target_names if scores else [])]
    clash = sorted({name for name in names if names.count(name) > 1})
    if clash:
        raise InputError(
            f"the output would have two columns named {clash[0]!r} (the id column and the "
            "model's categories); choose another --id-column"
        )
    fields = [pa.field(plan.id_name, plan.id_type), pa.field(CATEGORY, pa.string())]
    fields += [pa.field(name, pa.float64()) for name in (target_names if scores else [])]
    return pa.schema(fields, metadata={"newsapi": json.dumps(metadata, sort_keys=True)})


def check_scores(pipeline: Any, scores: bool) -> None:
    """Refuse ``--scores`` for a classifier without probabilities, as ``?scores=true`` does."""
    if scores and not has_scores(pipeline):
        scores_of(pipeline, [], [])  # raises the predictor's own one-line error
