"""Planning and reading the input: pieces cut where a record cannot be split, every row read
once and in order whatever the cut, the resume skip, and what a folder holds."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newsapi.scoring import sources
from newsapi.scoring.batches import decode
from newsapi.scoring.files import listed_files
from newsapi.scoring.readers import count_rows, read_piece
from newsapi.scoring.sources import plan_input
from tests.scoring.helpers import sentences
from tests.support import write_csv

TEXTS = [f"{text} {i}\twith a tab, a \\ and a quote \" {'é' * (i % 5)}" for i, text in
         enumerate(sentences(500))]  # fmt: skip


def all_texts(path: Path, **kwargs: str) -> list[str | None]:
    plan = plan_input(path, **kwargs)
    texts: list[str | None] = []
    for piece in plan.pieces:
        for batch in read_piece(plan, piece):
            assert len(batch.texts) <= sources.BATCH_ROWS
            texts += decode(batch.texts)[0]
    return texts


def test_json_lines_are_cut_between_records_and_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_text("".join(json.dumps({"text": t, "n": i}) + "\n" for i, t in enumerate(TEXTS)))
    monkeypatch.setattr(sources, "PIECE_BYTES", 1_000)  # a cut every few records
    plan = plan_input(path)
    assert len(plan.pieces) > 20
    data = path.read_bytes()
    assert plan.pieces[0].start == 0
    assert plan.pieces[-1].stop == len(data)
    for before, after in zip(plan.pieces, plan.pieces[1:], strict=False):
        assert before.stop == after.start
        assert data[after.start - 1 : after.start] == b"\n"
    assert all_texts(path) == TEXTS
    assert sum(count_rows(plan, piece) for piece in plan.pieces) == len(TEXTS)


def test_parquet_row_groups_are_grouped_into_pieces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "posts.parquet"
    pq.write_table(pa.table({"text": TEXTS}), path, row_group_size=40)
    monkeypatch.setattr(sources, "PIECE_ROWS", 100)
    plan = plan_input(path)
    assert [(p.start, p.stop, p.rows) for p in plan.pieces][:2] == [(0, 3, 120), (3, 6, 120)]
    assert sum(p.rows or 0 for p in plan.pieces) == len(TEXTS)
    assert all_texts(path) == TEXTS


def test_a_csv_file_is_one_piece_and_keeps_line_breaks_in_values(tmp_path: Path) -> None:
    texts = [f"{t}\nline two\r\nline three" for t in TEXTS]
    path = write_csv(tmp_path / "posts.csv", [(t, "x") for t in texts])
    assert len(plan_input(path).pieces) == 1
    assert all_texts(path) == texts


def test_a_resumed_piece_skips_the_rows_already_written(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "posts.csv", [(t, "x") for t in TEXTS])
    plan = plan_input(path)
    rest = [t for batch in read_piece(plan, plan.pieces[0], skip_rows=123) for t in
            decode(batch.texts)[0]]  # fmt: skip
    assert rest == TEXTS[123:]


def test_a_folder_lists_its_files_in_name_order_without_hidden_ones(tmp_path: Path) -> None:
    for name in ("b/2.txt", "a/1.txt", "a/10.txt", ".hidden/x.txt", "_SUCCESS", "a/.swp"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    names = [p.relative_to(tmp_path).as_posix() for p in listed_files(tmp_path)]
    assert names == ["a/1.txt", "a/10.txt", "b/2.txt"]
    plan = plan_input(tmp_path)
    assert (plan.format, plan.id_name) == ("text", "file")
    batches = [b for piece in plan.pieces for b in read_piece(plan, piece)]
    assert [i for b in batches for i in b.ids.to_pylist()] == names  # type: ignore[union-attr]


def test_rows_that_are_not_text_are_told_apart() -> None:
    values = pa.array([b"fine", None, b"", b"\xff\xfe", "é".encode()], pa.binary())
    texts, unread, reasons = decode(values)
    assert reasons == [None, "null", "empty", "not UTF-8", None]
    assert texts[4] == "é"
    assert (unread.null, unread.empty, unread.not_utf8) == (1, 1, 1)
    assert unread.describe() == "1 null, 1 empty, 1 not UTF-8"
