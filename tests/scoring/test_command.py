"""``newsapi score`` run as a user runs it, on real files: every input format, every output
format, the model's version in the output, rows without text, and one line for every input
it refuses, with nothing left at the output."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newsapi.model.artifact import load_artifact
from newsapi.serving.predictor import categories_of
from tests.scoring.helpers import Store, metadata, one_line, read_output, score, sentences
from tests.support import write_csv

TEXTS = sentences(300)


def expected(store: Store, texts: list[str], version: str | None = None) -> list[str]:
    path = store.root / "models" / (version or store.promoted) / "newsgroups_model.joblib"
    artifact = load_artifact(path)
    return categories_of(artifact.pipeline, artifact.target_names, texts)


def test_a_csv_with_line_breaks_in_its_texts_is_scored_into_parquet_with_the_model_version(
    store: Store, tmp_path: Path
) -> None:
    texts = [f'{text}\nsecond line, with "quotes"\r\nand more' for text in TEXTS]
    source = write_csv(tmp_path / "posts.csv", [(t, "x") for t in texts])
    out = tmp_path / "scores.parquet"
    result = score(store.root, source, "--output", out)
    assert result.returncode == 0, result.stderr
    table = pq.read_table(out)
    assert table.column_names == ["row", "category"]
    assert table.column("row").to_pylist() == list(range(len(texts)))
    assert table.column("category").to_pylist() == expected(store, texts)
    record = metadata(out)
    assert record["model_version"] == store.promoted
    assert record["model_sha256"].startswith(store.promoted)
    assert record["categories"] == ["cooking", "space", "sport"]
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith(f"scored {len(texts)} rows in ")
    assert f"rows/s) into {out} with model {store.promoted}" in last
    assert sorted(p.name for p in tmp_path.iterdir()) == ["posts.csv", "scores.parquet"]


def test_every_input_format_gives_the_same_answers(store: Store, tmp_path: Path) -> None:
    ids = [f"post-{i:03d}" for i in range(len(TEXTS))]
    table = pa.table({"id": ids, "text": TEXTS, "extra": list(range(len(TEXTS)))})
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    pq.write_table(table, inputs / "posts.parquet", row_group_size=70)
    (inputs / "posts.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in table.to_pylist()), encoding="utf-8"
    )
    write_csv(inputs / "posts.csv", list(zip(ids, TEXTS, strict=True)), ("id", "text"))
    folder = inputs / "csv-folder"
    folder.mkdir()
    write_csv(folder / "a.csv", list(zip(ids[:100], TEXTS[:100], strict=True)), ("id", "text"))
    write_csv(folder / "b.csv", list(zip(ids[100:], TEXTS[100:], strict=True)), ("id", "text"))
    (folder / "_SUCCESS").write_text("")  # what Spark leaves: skipped like hidden files
    texts = inputs / "load-files"  # scikit-learn's load_files layout: a folder per category
    for i, (name, text) in enumerate(zip(ids, TEXTS, strict=True)):
        (texts / f"group{i % 3}").mkdir(parents=True, exist_ok=True)
        (texts / f"group{i % 3}" / name).write_text(text, encoding="utf-8")
    answers = dict(zip(ids, expected(store, TEXTS), strict=True))
    for source in ("posts.parquet", "posts.jsonl", "posts.csv", "csv-folder"):
        out = tmp_path / f"{source}.out.parquet"
        result = score(store.root, inputs / source, "-o", out, "--id-column", "id")
        assert result.returncode == 0, result.stderr
        got = pq.read_table(out).to_pylist()
        assert [row["id"] for row in got] == ids, source
        assert {row["id"]: row["category"] for row in got} == answers, source
    out = tmp_path / "files.parquet"
    result = score(store.root, texts, "-o", out)
    assert result.returncode == 0, result.stderr
    got = pq.read_table(out).to_pylist()
    names = sorted(f"group{i % 3}/{name}" for i, name in enumerate(ids))
    assert [row["file"] for row in got] == names
    assert {row["file"].split("/")[1]: row["category"] for row in got} == answers


def test_scores_csv_and_json_lines_outputs_carry_a_sidecar(store: Store, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "posts.csv", [(t, "x") for t in TEXTS[:50]])
    artifact = load_artifact(store.root / "newsgroups_model.joblib")
    for fmt in ("csv", "jsonl", "parquet"):
        out = tmp_path / f"scores.{fmt}"
        result = score(store.root, source, "-o", out, "--scores")
        assert result.returncode == 0, result.stderr
        table = read_output(out)
        assert table.column_names == ["row", "category", "cooking", "space", "sport"]
        probabilities = artifact.pipeline.predict_proba(TEXTS[:50])
        for row, expected_row in zip(table.to_pylist(), probabilities, strict=True):
            assert [row[n] for n in artifact.target_names] == [round(p, 6) for p in expected_row]
        sidecar = tmp_path / f"scores.{fmt}.meta.json"
        if fmt == "parquet":
            assert not sidecar.exists()
            record = metadata(out)
        else:
            record = json.loads(sidecar.read_text())
            assert record["rows"] == 50
        assert record["model_version"] == store.promoted
        assert record["scores"] is True


def test_any_other_output_name_is_a_folder_of_part_files(store: Store, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "posts.csv", [(t, "x") for t in TEXTS])
    out = tmp_path / "scored"
    result = score(store.root, source, "-o", out, "--format", "jsonl", "--part-rows", "100")
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == ["_meta.json", *(f"part-00000-0000{i}.jsonl" for i in range(3))]
    assert read_output(out).column("category").to_pylist() == expected(store, TEXTS)
    assert json.loads((out / "_meta.json").read_text())["model_version"] == store.promoted


def test_a_stored_model_is_chosen_by_version_prefix(store: Store, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "posts.csv", [(t, "x") for t in TEXTS])
    out = tmp_path / "scores.parquet"
    result = score(store.root, source, "-o", out, "--model", store.other[:6])
    assert result.returncode == 0, result.stderr
    assert metadata(out)["model_version"] == store.other
    assert pq.read_table(out).column("category").to_pylist() == expected(store, TEXTS, store.other)


def test_rows_without_text_are_counted_and_get_no_category(store: Store, tmp_path: Path) -> None:
    texts: list[str | None] = [*TEXTS[:20], None, "", None, *TEXTS[20:30]]
    source = tmp_path / "posts.parquet"
    pq.write_table(pa.table({"text": texts}), source)
    out = tmp_path / "scores.parquet"
    result = score(store.root, source, "-o", out, "--scores")
    assert result.returncode == 0, result.stderr
    rows = pq.read_table(out).to_pylist()
    assert [row["category"] is None for row in rows] == [t is None or t == "" for t in texts]
    assert all(rows[i]["space"] is None for i in (20, 21, 22))
    assert rows[0]["space"] is not None
    assert result.stdout.strip().endswith("; 3 rows without text got no category (2 null, 1 empty)")
    # a text file that is not UTF-8 is a row without text, not a crash
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "good.txt").write_text(TEXTS[0], encoding="utf-8")
    (folder / "latin1.txt").write_bytes("caf\xe9 au lait".encode("latin-1"))
    result = score(store.root, folder, "-o", tmp_path / "files.csv")
    assert result.returncode == 0, result.stderr
    rows = read_output(tmp_path / "files.csv").to_pylist()
    assert rows == [
        {"file": "good.txt", "category": expected(store, TEXTS[:1])[0]},
        {"file": "latin1.txt", "category": None},
    ]
    assert result.stdout.strip().endswith("1 rows without text got no category (1 not UTF-8)")


def test_strict_refuses_a_row_without_text(store: Store, tmp_path: Path) -> None:
    source = tmp_path / "posts.jsonl"
    lines = [json.dumps({"id": i, "text": t}) for i, t in enumerate(TEXTS[:40])]
    lines.insert(30, json.dumps({"id": 99, "text": None}))
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "scores.parquet"
    line = one_line(score(store.root, source, "-o", out, "--id-column", "id", "--strict"))
    assert line == f"newsapi: {source}: id 99 has no text (null); --strict refuses such rows"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["posts.jsonl"]


def bad_inputs(tmp: Path, store: Store) -> dict[str, tuple[list[str], str]]:
    """name -> (arguments, the one line expected on stderr)."""
    csv = write_csv(tmp / "posts.csv", [(t, "x") for t in TEXTS[:5]], ("body", "label"))
    header_only = write_csv(tmp / "header.csv", [], ("text", "label"))
    (tmp / "empty.parquet").write_bytes(b"")
    (tmp / "notes.xlsx").write_bytes(b"PK")
    (tmp / "empty-folder").mkdir()
    mixed = tmp / "mixed"
    mixed.mkdir()
    write_csv(mixed / "a.csv", [(t, "x") for t in TEXTS[:5]])
    (mixed / "b.txt").write_text("text")
    (tmp / "exists.parquet").write_bytes(b"mine")
    ambiguous = store.promoted[0] if store.promoted[0] == store.other[0] else ""
    return {
        "missing file": ([str(tmp / "nope.csv")], f"{tmp / 'nope.csv'}: no such file or folder"),
        "unknown format": (
            [str(tmp / "notes.xlsx")],
            f"{tmp / 'notes.xlsx'}: unknown format '.xlsx'; give a .csv, .parquet or .jsonl "
            "(JSON Lines) file, a folder of them, or a folder of text files",
        ),
        "missing text column": (
            [str(csv)],
            f"{csv}: no text column 'text' (its columns: 'body', 'label'); choose one with "
            "--text-column",
        ),
        "missing id column": (
            [str(csv), "--text-column", "body", "--id-column", "key"],
            f"{csv}: no id column 'key' (its columns: 'body', 'label'); choose one with "
            "--id-column",
        ),
        "empty file": ([str(tmp / "empty.parquet")], f"{tmp / 'empty.parquet'}: the file is empty"),
        "no rows": ([str(header_only)], f"{header_only}: holds no rows to score"),
        "empty folder": (
            [str(tmp / "empty-folder")],
            f"{tmp / 'empty-folder'}: the folder holds no files",
        ),
        "mixed folder": (
            [str(mixed)],
            f"{mixed}: the folder mixes formats (b.txt beside csv files); give a folder of one "
            "format",
        ),
        "unknown version": (
            [str(csv), "--text-column", "body", "--model", "zzzz"],
            "no stored model matches 'zzzz'",
        ),
        "ambiguous version": (
            [str(csv), "--text-column", "body", "--model", ambiguous],
            f"{ambiguous!r} is ambiguous" if ambiguous else "no stored model matches ''",
        ),
        "no probabilities": (
            [str(csv), "--text-column", "body", "--model", store.no_scores, "--scores"],
            "the served classifier (LinearSVC) gives no probabilities",
        ),
        "workers without a local cluster": (
            [str(csv), "--text-column", "body", "--workers", "2"],
            "--workers sets the workers of --dask-scheduler local; drop it or add that",
        ),
        "format against suffix": (
            [str(csv), "--text-column", "body", "--format", "csv"],
            "names a .parquet file but --format is csv; make them agree",
        ),
    }


FAST_CASES = {
    "missing file",
    "missing text column",
    "no rows",
    "unknown version",
    "no probabilities",
}


@pytest.mark.parametrize(
    "case",
    [  # five in make test, each refused on another path; the rest in make test-slow
        case if case in FAST_CASES else pytest.param(case, marks=pytest.mark.slow)
        for case in (
            "missing file", "unknown format", "missing text column", "missing id column",
            "empty file", "no rows", "empty folder", "mixed folder", "unknown version",
            "ambiguous version", "no probabilities", "format against suffix",
            "workers without a local cluster",
        )
    ],
)  # fmt: skip
def test_a_bad_input_is_one_line_and_no_output(store: Store, tmp_path: Path, case: str) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    arguments, message = bad_inputs(inputs, store)[case]
    out = tmp_path / "out" / "scores.parquet"
    line = one_line(score(store.root, *arguments, "-o", out))
    assert message in line, line
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_an_existing_output_is_kept_unless_overwrite(store: Store, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "posts.csv", [(t, "x") for t in TEXTS[:10]])
    out = tmp_path / "scores.parquet"
    out.write_bytes(b"mine")
    line = one_line(score(store.root, source, "-o", out))
    assert line == f"newsapi: {out} exists; choose another --output or add --overwrite"
    assert out.read_bytes() == b"mine"
    assert score(store.root, source, "-o", out, "--overwrite").returncode == 0
    assert pq.read_table(out).num_rows == 10
