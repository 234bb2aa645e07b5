"""Finding a logged request by its id, for feedback: in the records a worker's writer holds and
has not written yet (:class:`Recent`), then in every worker's files (:func:`find_logged`).

``POST /feedback`` names a prediction by the ``X-Request-Id`` its answer carried. The records
of the last seconds are still in the writer's memory (a file is written every
``NEWSAPI_PREDICTION_LOG_FILE_SECONDS``): :class:`Recent` shares the record batches the
writer holds for its next file, and searches them when asked; older records are read from
the files, only their ``request_id`` column, newest file first, so that feedback on a recent
prediction reads one file or none. Both searches are Arrow's (:func:`logged_in`): the
writer's thread does no work per record for feedback, which is rare beside the answers.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from newsapi.serving.predlog.files import log_files

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True, slots=True)
class Logged:
    """What the log holds of one request: its first text's answer, model version and digest,
    and how many distinct texts it logged (more than one: a ``/predictions`` call, or a
    client id sent twice)."""

    model_version: str
    category: str
    digest: bytes
    texts: int


class Recent:
    """The record batches a writer holds, not yet in a file (a file's worth at most: the
    writer writes one once it holds ``NEWSAPI_PREDICTION_LOG_FILE_BYTES``)."""

    def __init__(self) -> None:
        self._batches: list[pa.RecordBatch] = []
        self._lock = threading.Lock()

    def add(self, batch: pa.RecordBatch) -> None:
        """The writer's thread: a batch it holds for its next file."""
        with self._lock:
            self._batches.append(batch)

    def written(self) -> None:
        """The writer's thread: every record held so far is in a file now (or was dropped)."""
        with self._lock:
            self._batches = []

    def get(self, request_id: str) -> Logged | None:
        with self._lock:
            batches = list(self._batches)
        if not batches:
            return None
        import pyarrow as pa

        return logged_in(pa.Table.from_batches(batches), request_id)


def logged_in(table: pa.Table, request_id: str) -> Logged | None:
    """The records of ``request_id`` in ``table`` (log records; at least the columns
    ``request_id``, ``model_version``, ``category`` and ``digest``), None when it has none."""
    import pyarrow.compute as pc

    mask = pc.equal(table.column("request_id"), request_id)
    if not pc.any(mask).as_py():
        return None
    rows = table.select(["model_version", "category", "digest"]).filter(mask).to_pylist()
    first = rows[0]
    texts = len({row["digest"] for row in rows})
    return Logged(first["model_version"], first["category"], first["digest"], texts)


def find_logged(folder: Path, request_id: str) -> Logged | None:
    """The records of ``request_id`` in the log files of ``folder``, newest file first (the
    first file holding it answers); None when no file does. Reads each file's
    ``request_id`` column, and the other columns of the one that holds it."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    for _, name, _ in reversed(log_files(folder)):
        path = folder / name
        try:
            ids = pq.read_table(path, columns=["request_id"]).column("request_id")
            if not pc.any(pc.equal(ids, request_id)).as_py():
                continue
            columns = ["request_id", "model_version", "category", "digest"]
            found = logged_in(pq.read_table(path, columns=columns), request_id)
        except FileNotFoundError:  # removed by a worker keeping the folder under its bound
            continue
        if found is not None:
            return found
    return None
