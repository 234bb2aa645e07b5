"""Where answers go: part files in a staging folder beside the output, then the output at once.

The staging folder ``.<output name>.partial/`` holds ``run.json`` (what the run scores: the
input's files, the model's sha256, the options), ``parts/part-<piece>-<chunk>.<format>`` (each
written under a temporary name and renamed when complete, with its row counts in ``done/``)
and a lock held while a run writes. A run killed at any moment leaves nothing at the output;
``--resume`` reuses every complete part when ``run.json`` matches and refuses otherwise. At the
end the parts become the output: merged into one file, or renamed as a folder of part files
(Dask's layout); CSV and JSON Lines get a sidecar ``<output>.meta.json`` (``_meta.json`` in a
folder), Parquet keeps the same record in each file's key-value metadata (``newsapi``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from newsapi.errors import NewsapiError
from newsapi.scoring.run_record import describe_difference

SUFFIX = {"parquet": ".parquet", "csv": ".csv", "jsonl": ".jsonl"}
#: rows per part file by default: what a resumed run may have to do again, at most
CHUNK_ROWS = 50_000
META = "_meta.json"


class OutputError(NewsapiError):
    """The output cannot be written as asked; the message names the path and the fix."""


def staging_path(output: Path) -> Path:
    """The staging folder of ``output``: hidden, beside it, on the same file system."""
    return output.parent / f".{output.name}.partial"


def sidecar_path(output: Path) -> Path:
    """The sidecar of a single-file CSV or JSON Lines output."""
    return output.parent / f"{output.name}.meta.json"


@dataclass(frozen=True)
class Chunk:
    """A complete part file: its rows and the rows among them without text."""

    rows: int
    unread: dict[str, int]


@dataclass(frozen=True)
class Parts:
    """The staging folder as the pieces see it (on any worker that shares the file system)."""

    root: str
    format: str
    chunk_rows: int = 0  #: rows per part file (the last of a piece may have fewer)

    @property
    def folder(self) -> Path:
        return Path(self.root) / "parts"

    @property
    def done(self) -> Path:
        return Path(self.root) / "done"

    def part(self, piece: int, chunk: int) -> Path:
        return self.folder / f"part-{piece:05d}-{chunk:05d}{SUFFIX[self.format]}"

    def finished_piece(self, piece: int) -> Chunk | None:
        """The totals of a piece whose every part is written, else None."""
        return _read_chunk(self.done / f"{piece:05d}.json")

    def finished_chunks(self, piece: int) -> list[Chunk]:
        """The complete parts of a piece, in order, up to the first one missing."""
        found: list[Chunk] = []
        while self.part(piece, len(found)).is_file():
            chunk = _read_chunk(self.done / f"{piece:05d}-{len(found):05d}.json")
            if chunk is None:
                break
            found.append(chunk)
        return found

    def open_part(self, piece: int, chunk: int, schema: pa.Schema) -> PartWriter:
        return PartWriter(self, piece, chunk, schema)

    def finish_piece(self, piece: int, total: Chunk) -> None:
        _write_json(self.done / f"{piece:05d}.json", total.__dict__)


def _read_chunk(path: Path) -> Chunk | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Chunk(int(data["rows"]), dict(data["unread"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_json(path: Path, value: Any) -> None:
    scratch = path.with_name(f".{path.name}.tmp")
    scratch.write_text(json.dumps(value, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(scratch, path)


class PartWriter:
    """One part file, written under a temporary name; :meth:`commit` records its counts and
    gives it its name (a part that has its name is complete)."""

    def __init__(self, parts: Parts, piece: int, chunk: int, schema: pa.Schema) -> None:
        self.parts = parts
        self.target = parts.part(piece, chunk)
        self.stats = parts.done / f"{piece:05d}-{chunk:05d}.json"
        self.scratch = self.target.with_name(f".{self.target.name}.tmp")
        self.rows = 0
        self._writer: Any = None
        self._handle: IO[bytes] | None = None
        if parts.format == "parquet":
            self._writer = pq.ParquetWriter(self.scratch, schema)
        elif parts.format == "csv":
            self._writer = pa_csv.CSVWriter(self.scratch, schema)
        else:
            self._handle = self.scratch.open("wb")

    def write(self, batch: pa.RecordBatch) -> None:
        self.rows += batch.num_rows
        if self._handle is not None:
            self._handle.write(jsonl_bytes(batch))
        else:
            self._writer.write_batch(batch)

    def commit(self, unread: dict[str, int]) -> Chunk:
        self.close()
        chunk = Chunk(self.rows, unread)
        _write_json(self.stats, chunk.__dict__)
        os.replace(self.scratch, self.target)
        return chunk

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
        elif self._writer is not None:
            self._writer.close()
            self._writer = None


def jsonl_bytes(batch: pa.RecordBatch) -> bytes:
    """One JSON object per row, keys in column order, one per line."""
    names = batch.schema.names
    columns = [column.to_pylist() for column in batch.columns]
    lines = [
        json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False)
        for row in zip(*columns, strict=True)
    ]
    return "".join(line + "\n" for line in lines).encode("utf-8")


class Staging:
    """The staging folder of one output, locked by this run."""

    def __init__(self, output: Path, fmt: str, chunk_rows: int = CHUNK_ROWS) -> None:
        self.output = output
        self.root = staging_path(output)
        self.parts = Parts(str(self.root), fmt, chunk_rows)
        self._lock: IO[str] | None = None

    @classmethod
    def open(
        cls, output: Path, fmt: str, chunk_rows: int, record: dict[str, Any], *, resume: bool
    ) -> Staging:
        """Start a run (a new staging folder) or resume one (its ``run.json`` must equal
        ``record``); refuses a folder some other run is writing."""
        staging = cls(output, fmt, chunk_rows)
        run = staging.root / "run.json"
        if staging.root.exists():
            staging._take_lock()
            if not run.is_file():  # killed before it recorded what it scores: nothing to keep
                staging.release()
                shutil.rmtree(staging.root, ignore_errors=True)
                return cls.open(output, fmt, chunk_rows, record, resume=resume)
            if not resume:
                staging.release()
                raise OutputError(
                    f"an interrupted run left its parts in {staging.root}: add --resume to "
                    "finish it, or delete that folder to start over"
                )
            try:
                before = json.loads(run.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                before = {}
            difference = describe_difference(before, record)
            if difference:
                staging.release()
                raise OutputError(
                    f"--resume: {difference}; rerun with the same input, model and options, "
                    f"or delete {staging.root} to start over"
                )
            return staging
        output.parent.mkdir(parents=True, exist_ok=True)
        staging.root.mkdir()
        staging._take_lock()
        staging.parts.folder.mkdir()
        staging.parts.done.mkdir()
        _write_json(run, record)
        return staging

    def _take_lock(self) -> None:
        handle = (self.root / "lock").open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise OutputError(
                f"another `newsapi score` is writing {self.output} (its parts are in "
                f"{self.root}); wait for it or choose another --output"
            ) from None
        self._lock = handle

    def release(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def discard(self) -> None:
        """Remove the staging folder (a run that cannot be resumed to a different end)."""
        self.release()
        shutil.rmtree(self.root, ignore_errors=True)

    def part_files(self) -> list[Path]:
        return sorted(self.parts.folder.glob(f"part-*{SUFFIX[self.parts.format]}"))

    def finish(self, *, folder: bool, overwrite: bool, sidecar: dict[str, Any]) -> None:
        """Make the parts the output at once, then remove the staging folder."""
        fmt = self.parts.format
        for scratch in self.parts.folder.glob(".*"):  # a part an interrupted run left half-written
            scratch.unlink()
        if folder:
            if fmt != "parquet":
                _write_json(self.parts.folder / META, sidecar)
            with _replacing(self.output, overwrite):
                os.replace(self.parts.folder, self.output)
        else:
            merged = self.root / f"merged{SUFFIX[fmt]}"
            merge(self.part_files(), merged, fmt)
            if fmt != "parquet":
                _write_json(sidecar_path(self.output), sidecar)
            with _replacing(self.output, overwrite):
                os.replace(merged, self.output)
        self.discard()


@contextlib.contextmanager
def _replacing(output: Path, overwrite: bool) -> Iterator[None]:
    """Around the final rename: an existing output (allowed by ``overwrite``) is moved aside
    first when it is a folder (a folder cannot be renamed over), removed after."""
    aside = None
    if output.is_dir() and not output.is_symlink():
        if not overwrite:
            raise OutputError(f"{output} exists; choose another --output or add --overwrite")
        aside = output.with_name(f".{output.name}.replaced")
        shutil.rmtree(aside, ignore_errors=True)
        os.replace(output, aside)
    elif output.exists() and not overwrite:
        raise OutputError(f"{output} exists; choose another --output or add --overwrite")
    yield
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)


def merge(parts: list[Path], target: Path, fmt: str) -> None:
    """The parts one after the other in one file, read and written a row group or a
    megabyte at a time (CSV: the header once)."""
    if fmt == "parquet":
        schema = pq.read_schema(parts[0])
        with pq.ParquetWriter(target, schema) as writer:
            for part in parts:
                source = pq.ParquetFile(part)
                for group in range(source.num_row_groups):
                    writer.write_table(source.read_row_group(group))
        return
    with target.open("wb") as out:
        for i, part in enumerate(parts):
            with part.open("rb") as handle:
                if fmt == "csv" and i > 0:
                    handle.readline()  # the header: column names hold no line break
                shutil.copyfileobj(handle, out, 2**20)
