"""``newsapi score`` stopped by SIGTERM or SIGHUP, as ``timeout``, systemd or a CI runner stop
it, ends as Ctrl-C does: the real command in a subprocess, on a real CSV file, signalled while
its model holds a batch (:func:`tests.support.hold_slow_texts`: two part files of 500 rows are
written, the third is being written). No process of the run survives it (a LocalCluster's
workers and ``--jobs``' processes included: each process is found by a mark the test puts in
the command's environment, which every process it starts or forks inherits), the caller's pipe
reaches its end, the command ends by the signal with one line saying where its finished parts
are, the part cut short is removed, and ``--resume`` finishes the run with the output of an
uninterrupted one.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newsapi.store.staging import deferred_signals
from tests.scoring.helpers import sentences
from tests.support import NEWSAPI, newsapi, wait_for, write_csv
from tests.support.corpora import hold_environment

MARK = "NEWSAPI_TEST_SCORE_SIGNALS_MARK"
ROWS = [*sentences(1_000), "a slow one", *sentences(700, seed=1)]


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_csv(tmp_path_factory.mktemp("input") / "posts.csv", [(t, "x") for t in ROWS])


@pytest.fixture(scope="module")
def whole(slow_store: Path, source: Path) -> pa.Table:
    """The output of an uninterrupted run."""
    out = source.parent / "whole.parquet"
    assert run(slow_store, source, out).returncode == 0
    return pq.read_table(out)


def marked(mark: str) -> dict[int, str]:
    """The live processes whose environment carries ``mark``: their command lines by pid."""
    needle = f"{MARK}={mark}".encode()
    found = {}
    for name in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):  # gone meanwhile
            environ = Path(f"/proc/{name}/environ").read_bytes().split(b"\0")
            state = Path(f"/proc/{name}/stat").read_bytes().rpartition(b")")[2].split()[:1]
            command = Path(f"/proc/{name}/cmdline").read_bytes().replace(b"\0", b" ")
            if needle in environ and state not in ([b"Z"], [b"X"]):
                found[int(name)] = command.decode(errors="replace")
    return found


def run(store: Path, source: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return newsapi(
        "score", str(source), "-o", str(out), "--artifacts", str(store), "--part-rows", "500",
        *extra, env=hold_environment(out.parent / "held", 0),
    )  # fmt: skip


def stopped(store: Path, source: Path, out: Path, signum: int, *extra: str) -> str:
    """Start ``newsapi score``, send ``signum`` once the model holds the "slow" batch, and
    check that the command ended by it and nothing of it survives; its stderr."""
    marker, mark = out.parent / "held", uuid.uuid4().hex
    process = subprocess.Popen(
        [NEWSAPI, "score", str(source), "-o", str(out), "--artifacts", str(store),
         "--part-rows", "500", *extra],
        env={**os.environ, **hold_environment(marker, 120), MARK: mark}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(marker.exists, timeout=120, what="the model holding the slow batch")
        process.send_signal(signum)
        try:  # a bound, not a measurement: an orphan holding the pipe keeps it open
            _, stderr = process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the caller's pipe is still held open by {marked(mark)}")
        assert marked(mark) == {}, "a process of the run outlived the command"
    finally:
        for pid in marked(mark):  # whatever a failing test left behind
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signum, stderr[-3000:]  # ended by the signal it got
    assert "Traceback" not in stderr, stderr[-3000:]
    assert "ERROR" not in stderr, stderr[-3000:]  # nor a Dask scheduler's, for a worker gone
    staging = out.parent / f".{out.name}.partial"
    assert stderr.rstrip("\n").splitlines()[-1] == (
        f"newsapi: stopped by {signal.Signals(signum).name}; the run's processes are ended "
        f"and the finished parts are kept in {staging}: run the same command with --resume "
        "to finish"
    )
    assert not out.exists()
    # the finished parts, and not the one cut short
    assert sorted(p.name for p in (staging / "parts").iterdir()) == [
        "part-00000-00000.parquet",
        "part-00000-00001.parquet",
    ]
    return stderr


@pytest.mark.parametrize(
    "engine",
    [
        [],
        pytest.param(["--dask-scheduler", "local", "--workers", "1"], marks=pytest.mark.slow),
        ["--jobs", "2"],  # one piece: one process forked, ended with the command
    ],
    ids=["this process", "LocalCluster", "jobs"],
)
def test_a_run_stopped_by_sigterm_resumes_to_the_uninterrupted_output(
    slow_store: Path, source: Path, whole: pa.Table, tmp_path: Path, engine: list[str]
) -> None:
    out = tmp_path / "scores.parquet"
    stopped(slow_store, source, out, signal.SIGTERM, *engine)
    resumed = run(slow_store, source, out, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "(1,000 rows from the interrupted run's parts)" in resumed.stdout
    assert not (tmp_path / ".scores.parquet.partial").exists()
    assert pq.read_table(out).equals(whole)


@pytest.mark.slow  # SIGTERM takes the same path in make test
def test_sighup_stops_a_run_as_sigterm_does(slow_store: Path, source: Path, tmp_path: Path) -> None:
    stopped(slow_store, source, tmp_path / "scores.parquet", signal.SIGHUP)


def test_a_stop_while_the_output_is_made_waits_for_it() -> None:
    """The signal is held while the parts become the output (``deferred_signals``), even when it
    reaches another thread of the process (pyarrow's, Dask's), then delivered."""
    events: list[str] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: events.append("signal"))
    elsewhere = threading.Event()
    other = threading.Thread(target=elsewhere.wait)  # a thread that does not block signals
    other.start()
    try:
        with deferred_signals():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.2)  # Python would run a handler at once; none runs here
            events.append("output whole")
        assert events == ["output whole", "signal"]
    finally:
        elsewhere.set()
        other.join()
        signal.signal(signal.SIGTERM, previous)
