"""The scoring benchmark runs every mode (the floor, one process, a LocalCluster, ``--jobs 2``,
a real scheduler with two workers, two floors at once) on a small input, and every run writes
the same answers. (No timing is asserted: the figures come from `make bench-score`.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scoring.helpers import Store
from tests.support import ROOT


@pytest.mark.corpus  # the input is built from the book's corpus
@pytest.mark.dask
@pytest.mark.slow  # two Dask clusters; `make bench-score` runs it whole
def test_bench_score_smoke(store: Store, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.score", "--rows", "3000", "--artifacts", str(store.root),
         "--results-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    record = json.loads((tmp_path / "latest-score.json").read_text())
    assert list(record["runs"]) == ["floor", "one", "local", "jobs", "cluster", "pair"]
    assert record["summary"]["same_answers"] is True
    assert [run["rows"] for run in record["runs"].values()] == [3000] * 5 + [6000]
    assert record["summary"]["pair_over_floor"] > 0
    assert all(
        len(record["runs"][mode]["worker_peak_rss_mb"]) == 2 for mode in ("local", "cluster")
    )
    assert "answers: the same in every run" in done.stdout
    assert len(record["runs"]["jobs"]["worker_peak_rss_mb"]) == 1  # the larger of the two
    assert record["runs"]["jobs"]["cpu_s"] > 0
    assert "local over one" in done.stdout
    assert "jobs over one" in done.stdout
