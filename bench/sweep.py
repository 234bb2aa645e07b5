"""``python -m bench.sweep`` (``make bench-sweep``): one fixed sweep on one process, on every
local core (joblib's processes) and on a local Dask cluster of two single-threaded worker
processes, each in a fresh child process; wall times, speed-ups as ratios within the run, and
the peak memory (max RSS) of the process driving each search.

Targets (a 2-core machine): every local core at least 1.6x faster than one process; Dask
within 1.3x of the local backend's time. The three runs must find the same CV scores.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
MODES: dict[str, dict[str, Any]] = {
    "sequential": {"n_jobs": 1},
    "local": {"n_jobs": -1},
    "dask": {"n_jobs": 2, "dask_scheduler": "local"},
}
#: 16 candidates x 3 folds = 48 fits of TF-IDF + classifier on the book's four categories
ALPHAS = [0.003, 0.01, 0.03, 0.1, 0.3, 1.0]
GRID = [
    {"classifier": ["multinomial_nb", "complement_nb"], "alpha": ALPHAS},
    {"classifier": ["linear_svc"], "C": [0.3, 1.0, 3.0, 10.0], "sublinear_tf": [True]},
]
SMOKE_GRID = [{"classifier": ["multinomial_nb"], "alpha": [0.1, 1.0]}]
SPEEDUP_TARGET = 1.6
DASK_TARGET = 1.3


def measure(mode: str, grid: Any, dataset: str) -> dict[str, Any]:
    """In this (child) process: load the corpus, run the search once, report."""
    from newsapi.training.run import corpus_for
    from newsapi.training.sweep.search import run_search
    from newsapi.training.sweep.spec import SweepSpec

    spec = SweepSpec.build({"grid": grid, "cv": 3, "dataset": dataset, **MODES[mode]})
    corpus = corpus_for(spec.base)
    started = time.perf_counter()
    outcome = run_search(spec, corpus, write=None)
    total = time.perf_counter() - started
    return {
        "mode": mode,
        "backend": outcome.backend,
        "workers": outcome.workers,
        "wall_s": round(total, 3),
        "search_s": round(outcome.elapsed, 3),
        "fits": spec.n_candidates * spec.cv,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "mean_test_score": [float(s) for s in outcome.cv_results["mean_test_score"]],
        "best": outcome.best_params.model_parameters(),
    }


def run_child(mode: str, smoke: bool, dataset: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.sweep", "--child", mode, "--dataset", dataset]
    done = subprocess.run(
        [*command, *(["--smoke"] if smoke else [])],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise SystemExit(f"bench.sweep: the {mode} run failed: {tail}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def summarise(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Median search time per mode (a Dask cluster's start-up apart), the ratios, the
    targets, and whether the scores agree."""
    wall = {mode: statistics.median(r["search_s"] for r in rs) for mode, rs in runs.items()}
    total = {mode: statistics.median(r["wall_s"] for r in rs) for mode, rs in runs.items()}
    out: dict[str, Any] = {"search_s": wall, "with_setup_s": total}
    scores = [r["mean_test_score"] for rs in runs.values() for r in rs]
    out["same_scores"] = all(
        max(abs(a - b) for a, b in zip(s, scores[0], strict=True)) <= 1e-9 for s in scores
    )
    if "sequential" in wall and "local" in wall:
        out["speedup_local"] = round(wall["sequential"] / wall["local"], 3)
        out["speedup_target_met"] = out["speedup_local"] >= SPEEDUP_TARGET
    if "local" in wall and "dask" in wall:
        out["dask_over_local"] = round(wall["dask"] / wall["local"], 3)
        out["dask_target_met"] = out["dask_over_local"] <= DASK_TARGET
    if "sequential" in wall and "dask" in wall:
        out["speedup_dask"] = round(wall["sequential"] / wall["dask"], 3)
    return out


def report(runs: dict[str, list[dict[str, Any]]], summary: dict[str, Any]) -> str:
    lines = [f"{'mode':<11}{'search s':>9}{'+ setup s':>10}{'fits':>6}{'peak RSS MB':>13}  where"]
    for mode, rs in runs.items():
        first = rs[0]
        rss = max(r["peak_rss_mb"] for r in rs)
        lines.append(
            f"{mode:<11}{summary['search_s'][mode]:>9.1f}{summary['with_setup_s'][mode]:>10.1f}"
            f"{first['fits']:>6}{rss:>13.0f}  {first['backend']}"
        )
    if "speedup_local" in summary:
        mark = "PASS" if summary["speedup_target_met"] else "MISS"
        lines.append(
            f"{mark} every local core vs one process: {summary['speedup_local']:.2f}x "
            f"(target >= {SPEEDUP_TARGET}x)"
        )
    if "dask_over_local" in summary:
        mark = "PASS" if summary["dask_target_met"] else "MISS"
        lines.append(
            f"{mark} local Dask cluster vs local processes: {summary['dask_over_local']:.2f}x "
            f"the time (target <= {DASK_TARGET}x)"
        )
    agree = "the same" if summary["same_scores"] else "DIFFERENT"
    lines.append(f"CV scores: {agree} in every run (to 1e-9)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sweep", description=__doc__)
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated, in order")
    parser.add_argument("--repeat", type=int, default=1, help="runs per mode (median reported)")
    parser.add_argument("--smoke", action="store_true", help="a 2-candidate grid: proves it runs")
    parser.add_argument("--dataset", default="20newsgroups", help="the corpus (01_train's names)")
    parser.add_argument("--results-dir", type=Path, default=REPO / "bench" / "results")
    parser.add_argument("--child", choices=list(MODES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    grid = SMOKE_GRID if args.smoke else GRID
    if args.child:
        print(json.dumps(measure(args.child, grid, args.dataset)))
        return 0
    modes = [m for m in args.modes.split(",") if m]
    unknown = sorted(set(modes) - set(MODES))
    if unknown:
        parser.error(f"unknown modes {unknown}; choose from {list(MODES)}")
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    for round_ in range(args.repeat):
        for mode in modes:  # interleaved, so that a busy spell hits every mode alike
            print(f"run {round_ + 1}/{args.repeat}: {mode} ...", flush=True)
            runs[mode].append(run_child(mode, args.smoke, args.dataset))
    summary = summarise(runs)
    print(report(runs, summary))
    args.results_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    record = {"when": stamp, "grid": grid, "runs": runs, "summary": summary}
    for name in (f"sweep-{stamp}.json", "latest-sweep.json"):
        (args.results_dir / name).write_text(json.dumps(record, indent=2))
    return 0 if summary["same_scores"] else 1


if __name__ == "__main__":
    sys.exit(main())
