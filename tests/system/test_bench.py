"""The benchmark harness in smoke mode: it runs, and all three apps answer correctly.
(No timing is asserted: performance figures come from `make bench`.)"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from newsapi.model.artifact import Artifact
from tests.support import ROOT

pytestmark = [pytest.mark.corpus, pytest.mark.server]


def test_bench_smoke(real_model: Artifact, tmp_path: Path) -> None:
    done = subprocess.run(
        # one load level: the harness and every answer are what this checks, not the loads
        [sys.executable, "-m", "bench", "--smoke", "--connections", "4",
         "--model", str(real_model.path), "--results-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((tmp_path / "latest-smoke.json").read_text())
    assert results["failures"] == []
    # every app was started and answered the checks before its load
    assert {(s["app"], s["answers_ok"]) for s in results["starts"]} == {
        ("newsapi", True), ("floor", True), ("seed", True),
    }  # fmt: skip
    runs = results["runs"]
    assert {(r["app"], r["scenario"]) for r in runs} >= {
        ("newsapi", "repeated"), ("newsapi", "unique"), ("newsapi", "batch"), ("newsapi", "v2"),
        ("newsapi", "explanation"), ("floor", "unique"), ("seed", "unique"),
    }  # fmt: skip
    assert all(r["errors"] == 0 and r["requests"] > 0 for r in runs)
    # the fairness scenario ran: single texts beside big batches, every batch answered
    fairness = results["fairness"]
    assert fairness["loaded"]["requests"] > 0
    assert fairness["loaded"]["errors"] == 0
    assert fairness["batch_errors"] == []
    assert min(fairness["batches_completed"]) >= 1


def test_bench_log_target_reads_the_median_of_five_pairs_measured_in_turns(
    real_model: Artifact, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--apps", "newsapi,newsapi-log",
         "--scenarios", "repeated,unique", "--connections", "4", "--no-fairness",
         "--model", str(real_model.path), "--results-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((tmp_path / "latest-smoke.json").read_text())
    # the scenario's own pair is in the table; the four after it are not
    assert [(r["app"], r["scenario"]) for r in results["runs"]] == [
        ("newsapi", "repeated"), ("newsapi", "unique"), ("newsapi-log", "unique"),
    ]  # fmt: skip
    pairs = results["variant_pairs"]  # after the unique runs only, not after each scenario's
    assert [[off["scenario"], on["scenario"]] for off, on in pairs] == [["unique", "unique"]] * 4
    assert [[off["app"], on["app"]] for off, on in pairs] == [["newsapi", "newsapi-log"]] * 4
    assert [off["pair"] for off, _ in pairs] == [2, 3, 4, 5]
    # in turns: the log's run first in pairs 2 and 4, newsapi's first in 3 and 5 (the order
    # the runs are printed in)
    printed = re.findall(r"unique +(\S+) .*\(pair (\d)\)", done.stdout)
    assert printed == [
        ("newsapi-log", "2"), ("newsapi", "2"), ("newsapi", "3"), ("newsapi-log", "3"),
        ("newsapi-log", "4"), ("newsapi", "4"), ("newsapi", "5"), ("newsapi-log", "5"),
    ]  # fmt: skip
    assert all(row["errors"] == 0 and row["requests"] > 0 for pair in pairs for row in pair)
    [target] = [t for t in results["targets"] if t["name"].startswith("prediction log")]
    assert "median of 5 pairs" in target["detail"]
    assert "0 dropped" in target["detail"]
