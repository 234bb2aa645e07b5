"""``python -m bench.pinned``, the one-worker-per-core tool of the benchmarks page, in a short
run: it pins, measures both apps and writes its results; bad arguments are one line.
(No timing is asserted: the figures come from the benchmark itself.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from newsapi.model.artifact import Artifact
from tests.support import ROOT

pytestmark = [pytest.mark.corpus, pytest.mark.server]


def pinned(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench.pinned", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def test_pinned_measures_both_apps_on_their_cores(real_model: Artifact, tmp_path: Path) -> None:
    cpus = sorted(os.sched_getaffinity(0))  # two at least: CI's machine has 2 cores
    done = pinned("--apps", "newsapi,floor", "--connections", "4", "--duration", "1",
                  "--warmup", "0", "--server-cpu", str(cpus[0]), "--load-cpu", str(cpus[1]),
                  "--model", str(real_model.path), "--results-dir", str(tmp_path))  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [written] = tmp_path.glob("pinned-*.json")
    results = json.loads(written.read_text())
    rows = {row["app"]: row for row in results["rows"]}
    assert set(rows) == {"newsapi", "floor"}
    for row in rows.values():
        assert row["connections"] == 4
        assert row["errors"] == 0
        assert row["requests_per_s"] > 0
        assert row["samples"] > 0  # the state sampler read the worker's threads
        assert "MainThread" in " ".join(row["threads_cores"])
    assert rows["newsapi"]["texts_per_model_call"] is not None  # read from its /metrics
    assert rows["newsapi"]["vs_floor"] > 0


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--warmup", "-1"], "--warmup"),
        (["--duration", "0"], "--duration"),
        (["--apps", "seed"], "--apps"),
        (["--model", "/nonexistent/model.joblib"], "no model at"),
    ],
)
def test_pinned_refuses_bad_arguments_in_one_line(args: list[str], says: str) -> None:
    done = pinned(*args)
    assert done.returncode == 2
    assert says in done.stderr.strip().splitlines()[-1]
    assert "Traceback" not in done.stderr
