"""The sweep benchmark runs every mode on a corpus the test writes, and the modes agree.
(No timing is asserted: the figures come from `make bench-sweep`.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT, overlapping_sentences, write_csv


@pytest.mark.dask
@pytest.mark.slow  # three fixed searches and a Dask cluster; `make bench-sweep` runs it whole
def test_bench_sweep_smoke(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "own.csv", overlapping_sentences())
    done = subprocess.run(
        [sys.executable, "-m", "bench.sweep", "--smoke", "--dataset", str(data),
         "--results-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    record = json.loads((tmp_path / "latest-sweep.json").read_text())
    assert list(record["runs"]) == ["sequential", "local", "dask"]
    assert record["summary"]["same_scores"] is True
    backends = [runs[0]["backend"] for runs in record["runs"].values()]
    assert backends[2].startswith("a local Dask cluster (2 single-threaded worker processes)")
    assert all(runs[0]["peak_rss_mb"] > 0 for runs in record["runs"].values())
    assert "CV scores: the same in every run" in done.stdout
    assert "every local core vs one process" in done.stdout
