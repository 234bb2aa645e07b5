"""A run killed half-way leaves nothing at the output; ``--resume`` finishes it from its
finished parts, and refuses, with one line, when the input, the model or the options differ.

The model here holds a batch that contains "slow" (:func:`tests.support.hold_slow_texts`): it
touches a marker file and sleeps, so the test kills the run at a known point, after two part
files of 500 rows are written and before the third."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from newsapi.model.artifact import load_artifact
from newsapi.settings import MODEL_FILENAME
from tests.scoring.helpers import one_line, sentences
from tests.support import (
    NEWSAPI,
    explode_on_marker,
    newsapi,
    train_behind,
    train_slow,
    wait_for,
    write_csv,
)
from tests.support.corpora import hold_environment

ROWS = [*sentences(1_000), "a slow one", *sentences(700, seed=1)]


@pytest.fixture(scope="module")
def slow_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("slow-artifacts")
    train_slow(root / MODEL_FILENAME)
    return root


def interrupt(store: Path, source: Path, out: Path, *extra: str) -> None:
    """Start ``newsapi score``, wait until the model holds the "slow" batch, kill -9 it."""
    marker = out.parent / "held"
    marker.unlink(missing_ok=True)
    process = subprocess.Popen(
        [NEWSAPI, "score", str(source), "-o", str(out), "--artifacts", str(store),
         "--part-rows", "500", *extra],
        env={**os.environ, **hold_environment(marker, 120)}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(marker.exists, timeout=120, what="the model holding the slow batch")
        second_lock = run(store, source, out, *extra)
        assert " score` is writing " in one_line(second_lock)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()


def run(store: Path, source: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return newsapi(
        "score", str(source), "-o", str(out), "--artifacts", str(store), "--part-rows", "500",
        *extra, env=hold_environment(out.parent / "held", 0),
    )  # fmt: skip


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "posts.csv", [(text, "x") for text in ROWS])


def test_a_killed_run_leaves_nothing_at_output_and_resume_finishes_it(
    slow_store: Path, source: Path, tmp_path: Path
) -> None:
    out = tmp_path / "scores.parquet"
    interrupt(slow_store, source, out)
    assert not out.exists()
    staging = tmp_path / ".scores.parquet.partial"
    assert sorted(p.name for p in (staging / "parts").glob("part-*")) == [
        "part-00000-00000.parquet",
        "part-00000-00001.parquet",
    ]
    resumed = run(slow_store, source, out, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "(1,000 rows from the interrupted run's parts)" in resumed.stdout
    assert not staging.exists()
    whole = tmp_path / "whole.parquet"
    assert run(slow_store, source, whole).returncode == 0
    assert pq.read_table(out).equals(pq.read_table(whole))
    assert pq.read_table(out).column("row").to_pylist() == list(range(len(ROWS)))


def test_resume_refuses_another_input_model_or_options(
    slow_store: Path, source: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    out = tmp_path / "scores.parquet"
    interrupt(slow_store, source, out)
    staging = tmp_path / ".scores.parquet.partial"
    slow = load_artifact(slow_store / MODEL_FILENAME).model_version
    line = one_line(run(slow_store, source, out))
    assert line == (
        f"newsapi: an interrupted run left its parts in {staging}: add --resume to finish it, "
        "or delete that folder to start over"
    )
    other_model = tmp_path_factory.mktemp("other-artifacts")
    other = train_behind(other_model / MODEL_FILENAME, explode_on_marker).model_version
    refusals = {
        "another model": (
            other_model,
            [],
            f"the interrupted run used model {slow}, this one {other}",
        ),
        "--scores": (slow_store, ["--scores"], "the interrupted run had scores=false, this one "),
        "--strict": (slow_store, ["--strict"], "the interrupted run had strict=false, this one "),
    }
    for name, (store, extra, message) in refusals.items():
        line = one_line(run(store, source, out, "--resume", *extra))
        assert message in line, (name, line)
        assert line.endswith(f"or delete {staging} to start over"), line
    with source.open("a") as handle:
        handle.write("one more row,x\n")
    line = one_line(run(slow_store, source, out, "--resume"))
    assert "--resume: the input's file posts.csv changed since the interrupted run" in line
    assert not out.exists()
    assert (staging / "parts" / "part-00000-00000.parquet").is_file()
