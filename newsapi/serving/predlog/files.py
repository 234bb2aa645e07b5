"""The log's files: each written whole under a hidden name, then renamed into place, so that
a reader never sees part of one; the folder kept under its byte bound, oldest files first.

Each worker names its files ``predictions-<start>-<pid>-<sequence>.parquet`` (``start``:
when its writer started, UTC): no two workers ever write the same file, so they need no
lock; names sort by time within a worker, and removal goes by modification time across them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from newsapi.serving.predlog.record import Record, as_table, schema

if TYPE_CHECKING:
    import pyarrow as pa

PATTERN = "predictions-*.parquet"
#: the columns Parquet stores as a dictionary of their values: those with few distinct ones
#: (encoding the request ids, digests or texts that way cost more CPU and made larger files)
DICTIONARY = ["model_version", "endpoint", "category", "score_kind", "runner_up"]


def file_name(start: str, pid: int, sequence: int) -> str:
    return f"predictions-{start}-{pid}-{sequence:06d}.parquet"


def write_file(folder: Path, name: str, records: Sequence[Record]) -> int:
    """Write ``records`` as ``folder/name``, whole or not at all; its size in bytes.

    Raises OSError when the folder cannot be made or written (the partial file is removed).
    """
    return write_table(folder, name, as_table(records))


def write_table(folder: Path, name: str, table: pa.Table) -> int:
    """:func:`write_file` for records already converted to a table of the log's schema."""
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{name}.partial"
    try:
        pq.write_table(table, partial, compression="zstd", use_dictionary=DICTIONARY)
        os.replace(partial, folder / name)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return (folder / name).stat().st_size


def log_files(folder: Path, pattern: str = PATTERN) -> list[tuple[float, str, int]]:
    """``(modification time, name, size)`` of each log file in ``folder`` (the files named
    by ``pattern``: the feedback files have their own), oldest first."""
    found = []
    for path in folder.glob(pattern):
        try:
            info = path.stat()
        except FileNotFoundError:  # another worker removed it meanwhile
            continue
        found.append((info.st_mtime, path.name, info.st_size))
    return sorted(found)


def trim(folder: Path, bytes_limit: int, pattern: str = PATTERN) -> int:
    """Remove the oldest log files until the folder's hold at most ``bytes_limit`` bytes;
    the bytes left. Raises OSError when a file cannot be removed."""
    files = log_files(folder, pattern)
    total = sum(size for _, _, size in files)
    for _, name, size in files:
        if total <= bytes_limit:
            break
        (folder / name).unlink(missing_ok=True)  # another worker may have removed it
        total -= size
    return total


def read_log(folder: Path | str) -> pa.Table:
    """Every record of the log files in ``folder``, oldest file first (an empty table of the
    log's schema when there is none); files being written are not read."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(folder)
    tables = [pq.read_table(folder / name, schema=schema()) for _, name, _ in log_files(folder)]
    if not tables:
        return schema().empty_table()
    return pa.concat_tables(tables)
