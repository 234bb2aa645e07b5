"""The staging folder on its own: what a run killed at its very start or half-way through a part
leaves is never taken for answers, and what ``--resume`` compares is said in words."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from newsapi.scoring.run_record import describe_difference
from newsapi.scoring.sinks import OutputError, Staging

SCHEMA = pa.schema([("row", pa.int64()), ("category", pa.string())])
RECORD = {"input": "/in.csv", "files": [["in.csv", 10, 1]], "model_sha256": "ab" * 32,
          "options": {"scores": False}}  # fmt: skip


def one_part(staging: Staging, rows: int) -> None:
    writer = staging.parts.open_part(0, 0, SCHEMA)
    writer.write(pa.record_batch([pa.array(range(rows)), pa.array(["x"] * rows)], schema=SCHEMA))
    writer.commit({"null": 0, "empty": 0, "not_utf8": 0})


def test_a_run_killed_before_it_recorded_anything_is_started_afresh(tmp_path: Path) -> None:
    out = tmp_path / "scores.jsonl"
    (tmp_path / ".scores.jsonl.partial").mkdir()  # killed between mkdir and run.json
    staging = Staging.open(out, "jsonl", 100, RECORD, resume=False)
    assert json.loads((staging.root / "run.json").read_text()) == RECORD
    staging.discard()


def test_a_half_written_part_never_reaches_the_output(tmp_path: Path) -> None:
    out = tmp_path / "scores"
    staging = Staging.open(out, "jsonl", 100, RECORD, resume=False)
    one_part(staging, 3)
    (staging.parts.folder / ".part-00001-00000.jsonl.tmp").write_text('{"row": 99')
    staging.finish(folder=True, overwrite=False, sidecar={"rows": 3})
    assert sorted(p.name for p in out.iterdir()) == ["_meta.json", "part-00000-00000.jsonl"]
    assert not staging.root.exists()


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    out = tmp_path / "scores.parquet"
    first = Staging.open(out, "parquet", 100, RECORD, resume=False)
    with pytest.raises(OutputError, match="is writing"):
        Staging.open(out, "parquet", 100, RECORD, resume=True)
    first.release()
    again = Staging.open(out, "parquet", 100, RECORD, resume=True)
    again.discard()


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"input": "/other.csv"}, "the interrupted run scored /in.csv, this one /other.csv"),
        ({"files": [["in.csv", 12, 1]]}, "posts"),
        ({"files": [["in.csv", 10, 2]]}, "modified"),
        ({"files": [["in.csv", 10, 1], ["more.csv", 1, 1]]}, "has a new file more.csv"),
        ({"model_sha256": "cd" * 32}, "used model abababababab, this one cdcdcdcdcdcd"),
        ({"options": {"scores": True}}, "had scores=false, this one scores=true"),
    ],
)
def test_what_differs_is_said_in_words(change: dict[str, object], said: str) -> None:
    difference = describe_difference(RECORD, {**RECORD, **change})
    assert difference is not None
    if said == "posts":
        assert difference == (
            "the input's file in.csv changed since the interrupted run (10 bytes then, 12 now)"
        )
    elif said == "modified":
        assert difference == "the input's file in.csv was modified since the interrupted run"
    else:
        assert said in difference
    assert describe_difference(RECORD, RECORD) is None
