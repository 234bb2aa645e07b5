"""Feedback read back: the labelled texts it makes (``newsapi feedback export``), and the live
accuracy it measures (the monitor report).

Feedback is written by the server beside the prediction log
(:mod:`newsapi.serving.predlog.feedback`). A label sent with its text carries the text; a label
sent with a request id names a logged prediction, whose text the log kept only with
``NEWSAPI_PREDICTION_LOG_TEXT=true``: without it, that label cannot become training data, and
:func:`labelled_texts` counts it instead.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from newsapi.serving.predlog.feedback import read_feedback
from newsapi.serving.predlog.files import log_files


@dataclass
class Labelled:
    """What the feedback of a log folder makes for training."""

    texts: dict[str, str] = field(default_factory=dict)  #: text -> its latest label
    feedback: int = 0  #: feedback records read
    without_text: int = 0  #: their request was logged without its text
    #: their request is not in the log's files (removed, or not written yet by a running server)
    not_logged: int = 0

    @property
    def left_out(self) -> int:
        return self.without_text + self.not_logged


def labelled_texts(log_dir: Path | str) -> Labelled:
    """Every labelled text of the feedback under ``log_dir``, joined with the logged texts of
    the requests it names (by request id and digest); a text labelled twice keeps its latest
    label."""
    folder = Path(log_dir)
    records = sorted(read_feedback(folder).to_pylist(), key=lambda r: r["time"])
    named = {r["request_id"] for r in records if r["text"] is None}
    logged = _logged_texts(folder, named)
    found = Labelled(feedback=len(records))
    for record in records:
        text = record["text"]
        if text is None:
            key = (record["request_id"], record["digest"])
            if key not in logged:
                found.not_logged += 1
                continue
            text = logged[key]
            if text is None:
                found.without_text += 1
                continue
        found.texts.pop(text, None)  # the latest label last, in the order labels came
        found.texts[text] = record["label"]
    return found


def _logged_texts(folder: Path, request_ids: set[str]) -> dict[tuple[str, bytes], str | None]:
    """``(request id, digest) -> text`` (None: not kept) of the logged records of
    ``request_ids``; reads three columns, and keeps only those requests' rows."""
    if not request_ids:
        return {}
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    wanted = pa.array(sorted(request_ids), pa.string())
    found: dict[tuple[str, bytes], str | None] = {}
    for _, name, _ in log_files(folder):
        try:
            table = pq.read_table(folder / name, columns=["request_id", "digest", "text"])
        except FileNotFoundError:  # removed by a server keeping the folder under its bound
            continue
        rows = table.filter(pc.is_in(table.column("request_id"), value_set=wanted))
        for row in rows.to_pylist():
            key = (row["request_id"], row["digest"])
            if found.get(key) is None:
                found[key] = row["text"]
    return found


@dataclass(frozen=True)
class LiveAccuracy:
    """Feedback on one model version's answers: how many, and how many it had right."""

    model_version: str
    labelled: int
    correct: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.labelled


def live_accuracy(log_dir: Path | str, model_version: str | None = None) -> list[LiveAccuracy]:
    """The live accuracy of each model version (or of ``model_version`` only) that the
    feedback under ``log_dir`` names answers of (a logged request's, or the served model's
    answer to a text), most labelled first."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    table = read_feedback(Path(log_dir)).select(["model_version", "category", "label"])
    for row in table.to_pylist():
        if row["model_version"] is None or row["category"] is None:
            continue
        if model_version is not None and row["model_version"] != model_version:
            continue
        count = counts[row["model_version"]]
        count[0] += 1
        count[1] += row["category"] == row["label"]
    found = [LiveAccuracy(version, n, right) for version, (n, right) in counts.items()]
    return sorted(found, key=lambda a: (-a.labelled, a.model_version))


def accuracy_sentence(found: list[LiveAccuracy]) -> str:
    """One sentence from the numbers: the live accuracy of each version, or that there is
    no feedback yet."""
    if not found:
        return "no feedback yet: the live accuracy needs labels sent to POST /feedback"
    parts = [
        f"{a.accuracy:.1%} ({a.correct} of {a.labelled} labelled answers) for model "
        f"{a.model_version}"
        for a in found
    ]
    return "live accuracy on labelled feedback: " + "; ".join(parts)
