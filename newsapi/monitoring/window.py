"""A time window of the prediction log, for one model version, as arrays.

The log's files are read with :func:`newsapi.serving.predlog.read_log` (complete files only);
the window keeps the records of one model version between two times, and counts the records
it leaves out, so that a report can say what it did not look at.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from newsapi.errors import NewsapiError
from newsapi.serving.predlog import read_log


class MonitorError(NewsapiError):
    """The report cannot be made from what it was given; the message says what to change."""


@dataclass(frozen=True)
class Window:
    """The log's records of ``model_version`` from ``start`` to ``end`` (both included)."""

    folder: Path
    model_version: str
    start: datetime  #: the window's start: the one asked for, else the first record's time
    end: datetime
    times: list[datetime]
    categories: list[str]
    score_kind: str | None  #: None for an empty window
    scores: np.ndarray
    oov_shares: np.ndarray  #: NaN for a text without tokens
    text_chars: np.ndarray
    digests: list[bytes]
    texts: list[str]  #: the texts the log kept (none unless NEWSAPI_PREDICTION_LOG_TEXT=true)
    log_records: int  #: records in the log, all versions and times
    other_versions: dict[str, int]  #: records of other model versions within the times

    def __len__(self) -> int:
        return len(self.categories)


def moment(value: datetime | str | None, name: str) -> datetime | None:
    """``value`` as an aware UTC time: a datetime, or an ISO 8601 string (no zone: UTC)."""
    found: datetime | None
    if value is None or isinstance(value, datetime):
        found = value
    else:
        try:
            found = datetime.fromisoformat(value)
        except ValueError:
            raise MonitorError(
                f"{name}: {value!r} is not a time; write it as ISO 8601, for example "
                "2026-12-05T09:00 (UTC unless it names a zone)"
            ) from None
    if found is not None and found.tzinfo is None:
        found = found.replace(tzinfo=UTC)
    return found


def read_window(
    folder: str | os.PathLike[str],
    model_version: str,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
) -> Window:
    """The records of ``model_version`` in the log folder ``folder`` between ``start`` and
    ``end`` (None: from the first record, to the last)."""
    path = Path(folder)
    if not path.is_dir():
        raise MonitorError(
            f"no prediction log in {path}: serve with NEWSAPI_PREDICTION_LOG_DIR={path}, "
            "or give the folder it names"
        )
    since, until = moment(start, "start"), moment(end, "end")
    if since is not None and until is not None and until < since:
        raise MonitorError(f"the window ends ({until}) before it starts ({since})")
    import pyarrow.compute as pc

    table = read_log(path)
    log_records = table.num_rows
    # filtered by Arrow before any row becomes Python objects: a log may hold a gigabyte
    if since is not None:
        table = table.filter(pc.greater_equal(table["time"], since))
    if until is not None:
        table = table.filter(pc.less_equal(table["time"], until))
    others = Counter(
        version for version in table["model_version"].to_pylist() if version != model_version
    )
    mine = table.filter(pc.equal(table["model_version"], model_version)).to_pylist()
    times = [row["time"] for row in mine]
    # an empty window still has a start and an end, the one given or the other
    start_at = since or (min(times) if times else until or datetime.now(UTC))
    end_at = until or (max(times) if times else start_at)
    return Window(
        folder=path,
        model_version=model_version,
        start=start_at,
        end=end_at,
        times=times,
        categories=[row["category"] for row in mine],
        score_kind=mine[0]["score_kind"] if mine else None,
        scores=np.array([row["score"] for row in mine], dtype=float),
        oov_shares=np.array(
            [np.nan if row["oov_share"] is None else row["oov_share"] for row in mine],
            dtype=float,
        ),
        text_chars=np.array([row["text_chars"] for row in mine], dtype=float),
        digests=[row["digest"] for row in mine],
        texts=[row["text"] for row in mine if row["text"] is not None],
        log_records=log_records,
        other_versions=dict(others),
    )
