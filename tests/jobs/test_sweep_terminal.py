"""What ``newsapi sweep`` shows in a terminal: the notebook's printed lines stream above the
progress bar, never glued onto its line; the bars carry the notebooks' names; the report says
which candidates give probabilities, and the summary says when the winner gives none."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.support import NEWSAPI, ROOT, overlapping_sentences, write_csv


@pytest.mark.slow  # a whole sweep in a terminal
def test_a_sweep_prints_its_table_on_lines_of_its_own(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "own.csv", overlapping_sentences())
    grid = json.dumps({"classifier": ["linear_svc"], "C": [0.5, 1.0]})
    # stdout and stderr into one pipe, unbuffered: what a terminal shows, in its order
    env = {k: v for k, v in os.environ.items() if k != "NEWSAPI_ARTIFACTS_DIR"}
    done = subprocess.run(
        [NEWSAPI, "sweep", "--artifacts", str(tmp_path / "artifacts"), "-p", "dataset",
         str(data), "-p", "grid", grid, "-p", "n_jobs", "1"],
        cwd=ROOT, env={**env, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    # a terminal starts over at a carriage return as at a newline
    shown = re.split(r"[\r\n]", done.stdout)
    bars = [line for line in shown if re.search(r"\w+: +\d+%\|", line)]
    assert {re.match(r"(\w+):", line).group(1) for line in bars} == {"03_sweep", "04_compare"}  # type: ignore[union-attr]
    headers = [line for line in shown if re.search(r"\brank\b.*\bprobabilities\b", line)]
    assert headers, done.stdout[-3000:]
    for line in headers:
        assert line.lstrip().startswith("rank"), line  # not after a bar on the same line
    for line in bars:
        assert "candidates" not in line, line
        assert "rank" not in line, line
    table = shown[shown.index(headers[0]) + 1 : shown.index(headers[0]) + 3]
    assert all(row.split()[-4] == "no" for row in table), table  # linear_svc: no probabilities
    summary = done.stdout.strip().splitlines()[-1]
    assert "(it gives no probabilities; with calibrate: true it would)" in summary
