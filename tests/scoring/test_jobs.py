"""``newsapi score --jobs N``: the pieces scored by N local processes forked by the command,
without Dask. The real command on real files: the same output as one process, row for row;
two processes at work at once (one holds a piece while the other finishes the rest); a kill
of the command takes its processes with it and ``--resume`` finishes the run; a process that
dies stops the run with one line and its finished parts kept.

The input is a folder of three CSV files (three pieces, whose rows the processes count first:
the id is the row number), the second of which holds a text the slow model holds
(:func:`tests.support.hold_slow_texts`)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.scoring.helpers import Store, one_line, read_output, score, sentences
from tests.support import NEWSAPI, newsapi, wait_for, write_csv
from tests.support.corpora import hold_environment

MARK = "NEWSAPI_TEST_SCORE_JOBS_MARK"
FILES = {
    "a.csv": sentences(700),
    "b.csv": [*sentences(300, seed=1), "a slow one", *sentences(300, seed=2)],
    "c.csv": sentences(900, seed=3),
}


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("posts")
    for name, texts in FILES.items():
        write_csv(folder / name, [(text, "x") for text in texts])
    return folder


def run(store: Path, source: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return newsapi(
        "score", str(source), "-o", str(out), "--artifacts", str(store), "--part-rows", "500",
        *extra, env=hold_environment(out.parent / "held", 0),
    )  # fmt: skip


def marked(mark: str) -> list[int]:
    """The live processes whose environment carries ``mark`` (the command and every process
    it forks or starts)."""
    needle = f"{MARK}={mark}".encode()
    found = []
    for name in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):  # gone meanwhile
            environ = Path(f"/proc/{name}/environ").read_bytes().split(b"\0")
            state = Path(f"/proc/{name}/stat").read_bytes().rpartition(b")")[2].split()[:1]
            if needle in environ and state not in ([b"Z"], [b"X"]):
                found.append(int(name))
    return found


@contextlib.contextmanager
def held_run(store: Path, source: Path, out: Path, mark: str) -> Iterator[subprocess.Popen[str]]:
    """``newsapi score --jobs 2`` running, one process holding the slow piece while the other
    has finished the two others; whatever is left of it is killed on the way out."""
    marker = out.parent / "held"
    process = subprocess.Popen(
        [NEWSAPI, "score", str(source), "-o", str(out), "--artifacts", str(store),
         "--part-rows", "500", "--jobs", "2"],
        env={**os.environ, **hold_environment(marker, 120), MARK: mark}, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    done = out.parent / f".{out.name}.partial" / "done"
    try:
        wait_for(marker.exists, timeout=120, what="a process holding the slow piece")
        # the other process scores the first and the last piece meanwhile: two at work at once
        wait_for(
            lambda: (done / "00000.json").exists() and (done / "00002.json").exists(),
            timeout=120,
            what="the other process finishing the two other pieces",
        )
        assert not (done / "00001.json").exists()
        yield process
    finally:
        for pid in marked(mark):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if process.poll() is None:
            process.kill()
        process.communicate()


def test_two_processes_write_the_output_of_one_row_for_row(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "posts"
    folder.mkdir()
    for name, texts in FILES.items():
        write_csv(folder / name, [(text, "x") for text in texts])
    one, two = tmp_path / "one.parquet", tmp_path / "two.parquet"
    assert score(store.root, folder, "-o", one, "--scores").returncode == 0
    done = score(store.root, folder, "-o", two, "--scores", "--jobs", "2")
    assert done.returncode == 0, done.stderr
    assert "scored 2,201 rows" in done.stdout
    assert pq.read_table(two).equals(pq.read_table(one))
    assert pq.read_table(two).column("row").to_pylist() == list(range(2_201))
    parts = tmp_path / "parts"  # a folder of part files, as Dask's layout: the same rows too
    assert score(store.root, folder, "-o", parts, "--jobs", "3").returncode == 0
    assert read_output(parts).column("category").equals(pq.read_table(one).column("category"))


def test_a_killed_run_takes_its_processes_and_resume_finishes_it(
    slow_store: Path, source: Path, tmp_path: Path
) -> None:
    out, mark = tmp_path / "scores.parquet", uuid.uuid4().hex
    with held_run(slow_store, source, out, mark) as process:
        process.send_signal(signal.SIGKILL)
        process.wait()
        # each forked process asked for SIGKILL when its parent dies: none writes on
        wait_for(lambda: not marked(mark), timeout=30, what="the forked processes ending")
    assert not out.exists()
    resumed = run(slow_store, source, out, "--resume", "--jobs", "2")
    assert resumed.returncode == 0, resumed.stderr
    assert "(1,600 rows from the interrupted run's parts)" in resumed.stdout
    whole = tmp_path / "whole.parquet"
    assert run(slow_store, source, whole).returncode == 0
    assert pq.read_table(out).equals(pq.read_table(whole))


def test_a_process_that_dies_stops_the_run_with_one_line(
    slow_store: Path, source: Path, tmp_path: Path
) -> None:
    out, mark = tmp_path / "scores.parquet", uuid.uuid4().hex
    with held_run(slow_store, source, out, mark) as process:
        command = process.pid
        children = [pid for pid in marked(mark) if pid != command]
        assert len(children) == 2, children
        for pid in children:  # the one holding the slow piece, and the idle one
            os.kill(pid, signal.SIGKILL)
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 1, stderr
        lines = stderr.strip().splitlines()
        assert len(lines) == 1, stderr
        assert "a scoring process ended with exit code -9 before its piece was done" in lines[0]
        assert "--resume continues" in lines[0]
        assert marked(mark) == []
    assert not out.exists()
    resumed = run(slow_store, source, out, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "(1,600 rows from the interrupted run's parts)" in resumed.stdout


@pytest.mark.parametrize("value", ["0", "two"])
def test_a_bad_jobs_value_is_one_line(store: Store, tmp_path: Path, value: str) -> None:
    source = write_csv(tmp_path / "posts.csv", [("a post about space", "x")])
    line = one_line(score(store.root, source, "-o", tmp_path / "out.parquet", "--jobs", value))
    assert line == f"newsapi: --jobs {value!r}: give a number of processes, 1 or more"
    line = one_line(
        score(store.root, source, "-o", tmp_path / "out.parquet", "--jobs", "2",
              "--dask-scheduler", "local")
    )  # fmt: skip
    assert "--jobs runs local processes without Dask" in line
    assert not (tmp_path / "out.parquet").exists()
