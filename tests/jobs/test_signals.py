"""``newsapi sweep`` and ``newsapi train`` stopped by SIGTERM or SIGHUP, as ``timeout``,
systemd, a CI runner or a closed terminal stop them: the real command in a subprocess, its
real kernel and joblib workers, signalled at several points. No process of the run survives
the command (each is found by a mark the test puts in the command's environment, which every
process it starts inherits), the caller's pipe reaches its end, and no staging folder is left.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from newsapi.model.artifact import load_artifact
from newsapi.store.catalog import ModelStore
from tests.support import NEWSAPI, ROOT, overlapping_sentences, write_csv

MARK = "NEWSAPI_TEST_SIGNALS_MARK"
# joblib's workers live until the kernel ends, so a short grid keeps them around long enough
GRID = json.dumps({"alpha": [round(0.1 * i, 1) for i in range(1, 11)]})


def marked(mark: str) -> list[tuple[int, str]]:
    """(pid, command line) of every live process whose environment carries ``mark``."""
    needle = f"{MARK}={mark}".encode()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            environ = Path(f"/proc/{name}/environ").read_bytes()
            stat = Path(f"/proc/{name}/stat").read_bytes()
            command = Path(f"/proc/{name}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        zombie = stat.rpartition(b")")[2].split()[:1] in ([b"Z"], [b"X"])
        if needle in environ.split(b"\0") and not zombie:
            found.append((int(name), command.decode(errors="replace")))
    return found


def hidden(root: Path) -> list[str]:
    """Hidden folders a run writes in (staging folders, the runs page's scratch folder)."""
    places = [root, root / "models"]
    return sorted(
        str(path.relative_to(root))
        for place in places
        if place.is_dir()
        for path in place.iterdir()
        if path.name.startswith(".") and path.is_dir()
    )


@dataclass
class Run:
    """A ``newsapi`` command started with a mark of its own."""

    process: subprocess.Popen[bytes]
    root: Path
    mark: str
    stderr: Path

    def running(self, what: str) -> bool:
        return any(what in command for pid, command in marked(self.mark) if pid != self.process.pid)

    def stop_when(self, reached: Callable[[], bool], signum: int, timeout: float = 240) -> str:
        """Send ``signum`` once ``reached()``; return the command's stderr once it ended and
        its stdout pipe was closed by every process holding it."""
        deadline = time.monotonic() + timeout
        while not reached():
            assert self.process.poll() is None, self.stderr.read_text()[-3000:]
            assert time.monotonic() < deadline, "the kill point was not reached"
            time.sleep(0.02)
        self.process.send_signal(signum)
        try:  # a bound, not a measurement: an orphan holding the pipe keeps it open for minutes
            self.process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the caller's stdout is still held open by {marked(self.mark)}")
        return self.stderr.read_text()


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Run]]:
    runs: list[Run] = []

    def start(*args: str) -> Run:
        root = tmp_path / "artifacts"
        mark = uuid.uuid4().hex
        env = {k: v for k, v in os.environ.items() if k != "NEWSAPI_ARTIFACTS_DIR"}
        stderr = tmp_path / "stderr.txt"
        process = subprocess.Popen(
            [NEWSAPI, *args, "--artifacts", str(root)], cwd=ROOT, env={**env, MARK: mark},
            stdout=subprocess.PIPE, stderr=stderr.open("wb"),
        )  # fmt: skip
        runs.append(Run(process, root, mark, stderr))
        return runs[-1]

    yield start
    for run in runs:  # whatever a failing test left behind
        for pid, _ in marked(run.mark):
            os.kill(pid, signal.SIGKILL)
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_csv(tmp_path_factory.mktemp("corpus") / "own.csv", overlapping_sentences())


def assert_stopped_cleanly(run: Run, stderr: str, signum: int) -> None:
    assert marked(run.mark) == [], "a process of the run outlived the command"
    assert hidden(run.root) == []
    assert run.process.returncode == -signum, stderr[-3000:]  # ended by the signal it got
    name = signal.Signals(signum).name
    assert stderr.rstrip("\n").splitlines()[-1] == (
        f"newsapi: stopped by {name}; the run's processes are ended and its unfinished files "
        "removed"
    )
    assert "Traceback" not in stderr  # nor a worker's, interrupted while it started


@pytest.mark.parametrize(
    ("when", "name"),
    [
        pytest.param("the kernel starts", "SIGTERM", marks=pytest.mark.slow),
        ("the search runs", "SIGTERM"),
        pytest.param("the search runs", "SIGHUP", marks=pytest.mark.slow),
        pytest.param("the entry landed", "SIGTERM", marks=pytest.mark.slow),
    ],
)
def test_a_stopped_sweep_leaves_no_process_and_no_staging_folder(
    start: Callable[..., Run], corpus: Path, when: str, name: str
) -> None:
    signum = signal.Signals[name]
    run = start("sweep", "-p", "dataset", str(corpus), "-p", "grid", GRID, "-p", "n_jobs", "2")
    points = {
        "the kernel starts": lambda: run.running("ipykernel_launcher"),
        "the search runs": lambda: run.running("popen_loky"),
        "the entry landed": lambda: bool(ModelStore(run.root).entries()),
    }
    stderr = run.stop_when(points[when], signum)
    assert_stopped_cleanly(run, stderr, signum)
    entries = ModelStore(run.root).entries()
    if when == "the entry landed":  # stored whole before the stop, and kept
        (entry,) = entries
        assert (entry.path / "notebooks" / "03_sweep.html").is_file()
        assert load_artifact(entry.model_path).model_version == entry.version
    else:
        assert entries == []


def test_a_stopped_training_run_leaves_no_process_and_no_staging_folder(
    start: Callable[..., Run], corpus: Path
) -> None:
    run = start("train", "-p", "dataset", str(corpus))
    stderr = run.stop_when(lambda: run.running("ipykernel_launcher"), signal.SIGTERM)
    assert_stopped_cleanly(run, stderr, signal.SIGTERM)
    assert ModelStore(run.root).entries() == []
