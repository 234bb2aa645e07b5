"""What ``newsapi score`` reads: a CSV, Parquet or JSON Lines file, a folder of such files, or a
folder of text files, checked and cut into pieces before anything is scored (each piece is then
read by :mod:`.readers` as Arrow record batches of at most :data:`BATCH_ROWS` rows).

A piece is the unit of work (a Dask partition) and of resumption: a run of Parquet row groups,
a byte range of a JSON Lines file that starts and ends on a line break (a JSON string cannot
hold a raw line break, so the cut is always between records), a whole CSV file (a quoted value
may hold line breaks, so no byte offset is known to start a record: Dask's ``read_csv`` has the
same limit), or a group of text files. Every piece is read with the same code wherever it
runs, so a cluster parses the input exactly as one process does.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from newsapi.errors import NewsapiError
from newsapi.scoring.files import RangeFile, Stamp, file_stamps, line_ranges, listed_files

#: rows handed to the model at once: the compute floor's batch (the docs' benchmark page)
BATCH_ROWS = 1_000
#: bytes pyarrow's CSV and JSON readers parse at once: the input held in memory per block
BLOCK_BYTES = 2**20
#: the size a piece aims at (Parquet row groups, JSON Lines ranges, text files are grouped):
#: about a second of work, so that two workers share even a small input evenly
PIECE_BYTES = 4 * 2**20
#: and the most rows in a piece of Parquet row groups or text files
PIECE_ROWS = 10_000

SUFFIXES = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
FORMATS = ("csv", "parquet", "jsonl", "text")
TEXT_TYPES = (pa.string(), pa.large_string(), pa.string_view())
BINARY_TYPES = (pa.binary(), pa.large_binary(), pa.binary_view())


class InputError(NewsapiError):
    """The input cannot be scored as given; the message names the file and the fix."""


@dataclass(frozen=True)
class Piece:
    """One unit of work: a file's byte range or row groups, or a group of text files."""

    index: int
    format: str
    path: str  #: the file (text pieces: the input folder)
    start: int = 0  #: jsonl: first byte; parquet: first row group
    stop: int = 0  #: jsonl: end byte (exclusive); parquet: end row group (exclusive)
    files: tuple[str, ...] = ()  #: text pieces: file names relative to ``path``
    rows: int | None = None  #: known before reading (Parquet, text files), else None
    size: int = 0  #: the input bytes it covers (for progress)


@dataclass(frozen=True)
class Plan:
    """The checked input, cut into pieces."""

    input: str
    format: str
    text_column: str
    id_column: str | None  #: the input's column kept as the id, None: row numbers or names
    id_name: str  #: the output's id column: ``id_column``, ``row`` or ``file``
    id_type: pa.DataType
    pieces: tuple[Piece, ...]
    stamps: tuple[Stamp, ...] = field(default=())

    @property
    def total_bytes(self) -> int:
        return sum(piece.size for piece in self.pieces)

    @property
    def row_numbers(self) -> bool:
        """Whether the id is the row's position, which a piece cannot know by itself."""
        return self.id_column is None and self.format != "text"


@dataclass
class RawBatch:
    """Up to :data:`BATCH_ROWS` rows of a piece: the texts (string or binary, nulls
    allowed), their ids (None: row numbers, given by the caller) and the input bytes read."""

    texts: pa.Array
    ids: pa.Array | None
    size: int


def plan_input(path: Path, text_column: str = "text", id_column: str | None = None) -> Plan:
    """Check ``path`` and cut it into pieces; :class:`InputError` with one line otherwise."""
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if path.is_dir():
        files = listed_files(path)
        if not files:
            raise InputError(f"{path}: the folder holds no files")
        kinds = {file: SUFFIXES.get(_suffix(file)) for file in files}
        tabular = sorted({kind for kind in kinds.values() if kind})
        others = [file for file, kind in kinds.items() if tabular and kind != tabular[0]]
        if others:
            raise InputError(
                f"{path}: the folder mixes formats ({others[0].relative_to(path)} beside "
                f"{tabular[0]} files); give a folder of one format"
            )
        fmt = tabular[0] if tabular else "text"
    else:
        fmt = SUFFIXES.get(_suffix(path), "")
        if not fmt:
            raise InputError(
                f"{path}: unknown format {_suffix(path) or '(no suffix)'!r}; give a .csv, "
                ".parquet or .jsonl (JSON Lines) file, a folder of them, or a folder of text files"
            )
        files = [path]
    if fmt == "text":
        if id_column is not None:
            raise InputError(
                f"{path}: text files have no columns (each file's name is its id); drop --id-column"
            )
        return _plan_text(path, files)
    planner = {"csv": _plan_csv, "parquet": _plan_parquet, "jsonl": _plan_jsonl}[fmt]
    pieces: list[Piece] = []
    id_types: dict[str, pa.DataType] = {}
    for file in files:
        size = file.stat().st_size
        if size == 0:
            raise InputError(f"{file}: the file is empty")
        found, id_type = planner(file, size, text_column, id_column, len(pieces))
        pieces += found
        if id_type is not None:
            id_types[str(file)] = id_type
    id_type = pa.int64()
    if id_column is not None:
        types = set(id_types.values())
        if len(types) > 1:
            shown = ", ".join(f"{Path(f).name}: {t}" for f, t in list(id_types.items())[:4])
            raise InputError(f"{path}: column {id_column!r} has different types ({shown})")
        id_type = types.pop()
    return Plan(
        input=str(path),
        format=fmt,
        text_column=text_column,
        id_column=id_column,
        id_name=id_column or "row",
        id_type=id_type,
        pieces=tuple(pieces),
        stamps=file_stamps(path, files),
    )


def _suffix(path: Path) -> str:
    return path.suffix.lower()


def _missing(file: Path, what: str, name: str, columns: list[str], option: str) -> InputError:
    shown = ", ".join(repr(c) for c in columns[:20]) + (", ..." if len(columns) > 20 else "")
    return InputError(
        f"{file}: no {what} column {name!r} (its columns: {shown or 'none'}); "
        f"choose one with {option}"
    )


def _check_columns(file: Path, names: list[str], text_column: str, id_column: str | None) -> None:
    if text_column not in names:
        raise _missing(file, "text", text_column, names, "--text-column")
    if id_column is not None and id_column not in names:
        raise _missing(file, "id", id_column, names, "--id-column")


def _plan_csv(
    file: Path, size: int, text_column: str, id_column: str | None, first: int
) -> tuple[list[Piece], pa.DataType | None]:
    try:
        with file.open(newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), [])
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{file}: the CSV header cannot be read ({exc})") from None
    _check_columns(file, header, text_column, id_column)
    # ids from CSV stay the text they are (no guessing: "007" keeps its zeros)
    return [Piece(first, "csv", str(file), size=size)], pa.string() if id_column else None


def _plan_parquet(
    file: Path, size: int, text_column: str, id_column: str | None, first: int
) -> tuple[list[Piece], pa.DataType | None]:
    try:
        metadata = pq.ParquetFile(file).metadata
        schema = pq.read_schema(file)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{file}: not a readable Parquet file ({first_line(exc)})") from None
    _check_columns(file, schema.names, text_column, id_column)
    kind = schema.field(text_column).type
    if kind not in TEXT_TYPES + BINARY_TYPES:
        raise InputError(f"{file}: column {text_column!r} holds {kind}, not text")
    pieces: list[Piece] = []
    start = rows = nbytes = 0
    for group in range(metadata.num_row_groups):
        meta = metadata.row_group(group)
        rows += meta.num_rows
        nbytes += meta.total_byte_size
        if rows >= PIECE_ROWS or nbytes >= PIECE_BYTES or group == metadata.num_row_groups - 1:
            if rows:
                share = round(size * nbytes / max(1, _total_bytes(metadata)))
                pieces.append(
                    Piece(first + len(pieces), "parquet", str(file), start, group + 1,
                          rows=rows, size=share)
                )  # fmt: skip
            start, rows, nbytes = group + 1, 0, 0
    return pieces, schema.field(id_column).type if id_column else None


def _total_bytes(metadata: Any) -> int:
    return sum(metadata.row_group(g).total_byte_size for g in range(metadata.num_row_groups))


def _plan_jsonl(
    file: Path, size: int, text_column: str, id_column: str | None, first: int
) -> tuple[list[Piece], pa.DataType | None]:
    try:
        with RangeFile(file, 0, size) as handle:
            reader = pa_json.open_json(handle, read_options=pa_json.ReadOptions(BLOCK_BYTES))
            schema = reader.schema
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{file}: not readable as JSON Lines ({first_line(exc)})") from None
    _check_columns(file, schema.names, text_column, id_column)
    pieces = [
        Piece(first + index, "jsonl", str(file), start, stop, size=stop - start)
        for index, (start, stop) in enumerate(line_ranges(file, size, PIECE_BYTES))
    ]
    id_type = None
    if id_column:
        id_type = schema.field(id_column).type
        id_type = pa.string() if pa.types.is_null(id_type) else id_type
    return pieces, id_type


def _plan_text(root: Path, files: list[Path]) -> Plan:
    pieces: list[Piece] = []
    group: list[str] = []
    nbytes = 0
    stamps = file_stamps(root, files)
    for stamp in stamps:
        group.append(stamp.name)
        nbytes += stamp.size
        if len(group) >= PIECE_ROWS or nbytes >= PIECE_BYTES:
            pieces.append(_text_piece(len(pieces), root, group, nbytes))
            group, nbytes = [], 0
    if group:
        pieces.append(_text_piece(len(pieces), root, group, nbytes))
    return Plan(
        input=str(root),
        format="text",
        text_column="text",
        id_column=None,
        id_name="file",
        id_type=pa.string(),
        pieces=tuple(pieces),
        stamps=stamps,
    )


def _text_piece(index: int, root: Path, names: list[str], nbytes: int) -> Piece:
    return Piece(index, "text", str(root), files=tuple(names), rows=len(names), size=nbytes)


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (pyarrow's run over several)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
