"""Finding a logged request by its id, for feedback: in the records a worker's writer holds and
has not written yet (:class:`Recent`), then in every worker's files (:func:`find_logged`).

``POST /feedback`` names a prediction by the ``X-Request-Id`` its answer carried. The records
of the last seconds are still in the writer's memory (a file is written every
``NEWSAPI_PREDICTION_LOG_FILE_SECONDS``), so the writer's thread keeps the request ids of the
records it holds, with the answer and the model version, and forgets them once their file is
written; older ones are read from the files, only their ``request_id`` column, newest file
first, so that feedback on a recent prediction reads one file or none.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsapi.serving.predlog.files import log_files


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
    """The request ids of the records a writer holds, not yet in a file (at most ``limit``:
    a file's worth, since the writer writes a file once it holds that many bytes; beyond
    it the oldest ids go, and are in a file by then)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        # plain tuples of strings and bytes, not Logged objects: the garbage collector stops
        # tracking such tuples, so thousands of held ids add nothing to its passes while the
        # server answers
        self._ids: dict[str, tuple[str, str, bytes, int]] = {}
        self._lock = threading.Lock()

    def add(self, columns: Mapping[str, Sequence[Any]]) -> None:
        """The writer's thread: records it has measured, as columns."""
        fields = (columns["request_id"], columns["model_version"], columns["category"],
                  columns["digest"])  # fmt: skip
        with self._lock:
            ids = self._ids
            for request_id, version, category, digest in zip(*fields, strict=True):
                found = ids.get(request_id)
                if found is None:
                    if len(ids) >= self.limit:
                        del ids[next(iter(ids))]
                    ids[request_id] = (version, category, digest, 1)
                elif found[2] != digest:
                    ids[request_id] = (found[0], found[1], found[2], found[3] + 1)

    def written(self) -> None:
        """The writer's thread: every record held so far is in a file now (or was dropped)."""
        with self._lock:
            self._ids.clear()

    def get(self, request_id: str) -> Logged | None:
        with self._lock:
            found = self._ids.get(request_id)
        return None if found is None else Logged(*found)


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
            mask = pc.equal(ids, request_id)
            if not pc.any(mask).as_py():
                continue
            columns = ["model_version", "category", "digest"]
            rows = pq.read_table(path, columns=columns).filter(mask).to_pylist()
        except FileNotFoundError:  # removed by a worker keeping the folder under its bound
            continue
        first = rows[0]
        texts = len({row["digest"] for row in rows})
        return Logged(first["model_version"], first["category"], first["digest"], texts)
    return None
