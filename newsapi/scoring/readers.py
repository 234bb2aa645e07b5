"""Reading a piece of the input (see :mod:`.sources`) as record batches of at most
:data:`~newsapi.scoring.sources.BATCH_ROWS` rows, the same code wherever the piece runs.

CSV and JSON Lines are parsed by pyarrow in blocks of
:data:`~newsapi.scoring.sources.BLOCK_BYTES` through plain reads of a byte range
(:class:`~newsapi.scoring.files.RangeFile`); Parquet is read row group by row group with a
small read buffer; a text file is read whole. A CSV file's text column is read as bytes and
decoded row by row later (:mod:`.batches`): one value that is not UTF-8 is one row without text,
not a failed file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from newsapi.scoring.files import RangeFile
from newsapi.scoring.sources import (
    BATCH_ROWS,
    BLOCK_BYTES,
    InputError,
    Piece,
    Plan,
    RawBatch,
    first_line,
)


def read_piece(plan: Plan, piece: Piece, skip_rows: int = 0) -> Iterator[RawBatch]:
    """The rows of ``piece`` in order, as batches of at most :data:`BATCH_ROWS` rows, the
    first ``skip_rows`` rows left out (a resumed piece: parsed again, not returned)."""
    reader = {
        "csv": _read_csv,
        "parquet": _read_parquet,
        "jsonl": _read_jsonl,
        "text": _read_text,
    }[piece.format]
    where = piece.path
    try:
        for batch in reader(plan, piece):
            if skip_rows >= len(batch.texts):
                skip_rows -= len(batch.texts)
                continue
            if skip_rows:
                batch = RawBatch(
                    batch.texts.slice(skip_rows),
                    None if batch.ids is None else batch.ids.slice(skip_rows),
                    batch.size,
                )
                skip_rows = 0
            yield batch
    except pa.ArrowException as exc:
        raise InputError(f"{where}: cannot be read ({first_line(exc)})") from None


def _split(texts: pa.Array, ids: pa.Array | None, size: int) -> Iterator[RawBatch]:
    count = len(texts)
    for begin in range(0, count, BATCH_ROWS):
        end = min(count, begin + BATCH_ROWS)
        share = size * end // count - size * begin // count
        yield RawBatch(
            texts.slice(begin, end - begin),
            None if ids is None else ids.slice(begin, end - begin),
            share,
        )


def _columns(batch: pa.RecordBatch, plan: Plan) -> tuple[pa.Array, pa.Array | None]:
    texts = batch.column(plan.text_column)
    ids = batch.column(plan.id_column) if plan.id_column else None
    return texts, ids


def _read_csv(plan: Plan, piece: Piece) -> Iterator[RawBatch]:
    wanted = [plan.text_column] + ([plan.id_column] if plan.id_column else [])
    types = {name: pa.string() for name in wanted}
    types[plan.text_column] = pa.binary()  # decoded per row: one bad value is one bad row
    with RangeFile(piece.path, 0, piece.size) as handle:
        reader = pa_csv.open_csv(
            handle,
            read_options=pa_csv.ReadOptions(block_size=BLOCK_BYTES),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(column_types=types, include_columns=wanted),
        )
        yield from _blocks(reader, handle, plan, piece, pa.binary())


def _read_parquet(plan: Plan, piece: Piece) -> Iterator[RawBatch]:
    wanted = [plan.text_column] + ([plan.id_column] if plan.id_column else [])
    parquet = pq.ParquetFile(piece.path, buffer_size=2**20, pre_buffer=False)
    groups = list(range(piece.start, piece.stop))
    total = piece.rows or 1
    done = 0
    for batch in parquet.iter_batches(BATCH_ROWS, row_groups=groups, columns=wanted):
        texts, ids = _columns(batch, plan)
        share = piece.size * (done + len(texts)) // total - piece.size * done // total
        done += len(texts)
        yield RawBatch(texts, ids, share)


def _read_jsonl(plan: Plan, piece: Piece) -> Iterator[RawBatch]:
    fields = [pa.field(plan.text_column, pa.string())]
    if plan.id_column:
        fields.append(pa.field(plan.id_column, plan.id_type))
    with RangeFile(piece.path, piece.start, piece.stop) as handle:
        reader = pa_json.open_json(
            handle,
            read_options=pa_json.ReadOptions(block_size=BLOCK_BYTES),
            parse_options=pa_json.ParseOptions(
                explicit_schema=pa.schema(fields), unexpected_field_behavior="ignore"
            ),
        )
        yield from _blocks(reader, handle, plan, piece, pa.string())


def _blocks(
    reader: Iterable[pa.RecordBatch],
    handle: RangeFile,
    plan: Plan,
    piece: Piece,
    text_type: pa.DataType,
) -> Iterator[RawBatch]:
    """The batches of a block reader (CSV, JSON Lines) over ``handle``, each block's input
    bytes shared among its batches; bytes of the piece the reader did not consume come as an
    empty batch, so that the piece's bytes add up to its size."""
    seen = 0
    for batch in reader:
        texts, ids = _columns(batch, plan)
        now = handle.consumed
        yield from _split(texts, ids, now - seen)
        seen = now
    if piece.size > seen:
        yield RawBatch(pa.array([], text_type), None, piece.size - seen)


def _read_text(plan: Plan, piece: Piece) -> Iterator[RawBatch]:
    root = Path(piece.path)
    names = list(piece.files)
    for begin in range(0, len(names), BATCH_ROWS):
        chunk = names[begin : begin + BATCH_ROWS]
        contents = []
        size = 0
        for name in chunk:
            try:
                data = (root / name).read_bytes()
            except OSError as exc:
                raise InputError(f"{root / name}: cannot be read ({exc.strerror})") from None
            size += len(data)
            contents.append(data)
        yield RawBatch(pa.array(contents, pa.binary()), pa.array(chunk, pa.string()), size)


def count_rows(plan: Plan, piece: Piece) -> int:
    """The rows of ``piece``: known from the plan, or parsed (CSV, JSON Lines)."""
    if piece.rows is not None:
        return piece.rows
    return sum(len(batch.texts) for batch in read_piece(plan, piece))
