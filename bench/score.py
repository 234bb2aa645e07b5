"""``python -m bench.score`` (``make bench-score``): ``newsapi score`` over one Parquet input
built from the book's corpus, against the compute floor, each measure in a fresh child process:

- ``floor``: the promoted model's predictions over the same texts in batches of 1,000, in
  memory, as the server computes them (what the project's bench calls the compute floor);
- ``one``: the command's code in one process (reading, scoring, writing the output whole);
- ``local``: a LocalCluster of two single-threaded worker processes;
- ``jobs``: ``--jobs 2``, two local processes forked by the command, without Dask;
- ``cluster``: a ``dask scheduler`` and two ``dask worker`` processes started for the run;
- ``pair``: two ``floor`` measures at the same time, each in its own process: what two
  processes can compute together on this machine at best, the ceiling of the two-worker
  modes (no target: it reads the machine, not the project).

A cluster's start-up and the workers' imports are not timed (a cluster in use has done both);
the model's trip to each worker is.

Targets (a 2-core machine): one process at least 0.9x the floor's rows/s; two local processes
(the LocalCluster's workers, and ``--jobs 2``'s) at least 1.7x one process; the real scheduler
with two workers at least 1.5x. Rows/s, the
input's size and the peak resident memory of each process are in the results; every run must
write the same answers. The CPU time per row (the workers' included) shows the work each mode
does whatever else the machine runs: on a busy machine the wall-clock ratios say little.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
MODES = ("floor", "one", "local", "jobs", "cluster", "pair")
TARGETS = {
    "one_over_floor": 0.9,
    "local_over_one": 1.7,
    "jobs_over_one": 1.7,
    "cluster_over_one": 1.5,
}


def build_input(path: Path, rows: int) -> None:
    """The book's four categories (train and test splits) repeated to ``rows`` posts, in
    row groups of 1,000, with an id column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from newsapi.model.data import load_corpus

    corpus = load_corpus()
    texts = corpus.train_texts + corpus.test_texts
    column = [texts[i % len(texts)] for i in range(rows)]
    table = pa.table({"id": [f"post-{i:07d}" for i in range(rows)], "text": column})
    pq.write_table(table, path, row_group_size=1_000)


def peak_rss_mb() -> float:
    """This process's peak resident memory (``VmHWM``): not ``ru_maxrss``, which Linux carries
    over ``exec`` from the parent's peak (each measure's child would report this bench's own,
    the corpus in memory)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def cpu_seconds() -> float:
    """CPU time of this process so far (its threads included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def children_usage() -> tuple[float, float]:
    """The CPU time of this process's children that ended (``--jobs``' processes), and the
    largest peak resident memory among them, in MB."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime, round(usage.ru_maxrss / 1024, 1)


def measure_floor(source: Path, artifacts: Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from newsapi.model.artifact import load_artifact
    from newsapi.serving.predictor import prepare

    artifact = load_artifact(artifacts / "newsgroups_model.joblib")
    predictor = prepare(artifact.pipeline)  # the server's path (its lean form when it compiles)
    texts = pq.read_table(source, columns=["text"]).column("text").to_pylist()
    started, cpu = time.perf_counter(), cpu_seconds()
    for begin in range(0, len(texts), 1_000):
        predictor.labels(texts[begin : begin + 1_000])
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": len(texts), "peak_rss_mb": peak_rss_mb(),
            "cpu_s": cpu_seconds() - cpu}  # fmt: skip


def measure_run(mode: str, source: Path, artifacts: Path, out: Path) -> dict[str, Any]:
    from newsapi.scoring.job import ScoreOptions, score

    options = ScoreOptions(id_column="id")
    jobs = 2 if mode == "jobs" else 1
    with cluster(mode) as (address, worker_usage):
        before, cpu, (children, _) = worker_usage(), cpu_seconds(), children_usage()
        summary = score(
            source, out, artifacts=artifacts, options=options, dask_scheduler=address,
            jobs=jobs, stream=open("/dev/null", "w"), bar=False,  # noqa: SIM115
        )  # fmt: skip
        cpu = cpu_seconds() - cpu
        after = worker_usage()
    workers = [peak for peak, _ in after]
    cpu += sum(used for _, used in after) - sum(used for _, used in before)
    if jobs > 1:  # the forked processes, waited for before score returned
        ended, peak = children_usage()
        cpu += ended - children
        workers = [peak]
    digest = hashlib.sha256()
    for part in sorted(out.glob("part-*")) if out.is_dir() else [out]:
        import pyarrow.parquet as pq

        table = pq.read_table(part, columns=["id", "category"])
        digest.update(json.dumps(table.to_pydict()).encode())
    return {
        "seconds": summary.seconds,
        "rows": summary.rows,
        "peak_rss_mb": peak_rss_mb(),
        "worker_peak_rss_mb": workers,
        "cpu_s": cpu,
        "answers_sha256": digest.hexdigest(),
    }


@contextmanager
def cluster(mode: str) -> Iterator[tuple[str | None, Any]]:
    """No cluster (``one``, ``jobs``), a LocalCluster of two workers, or a real scheduler with
    two ``dask worker`` processes; its address and a function that reads each worker's peak
    RSS and CPU time."""
    if mode in ("one", "jobs"):
        yield None, list
        return
    from distributed import Client

    def warm(address: str) -> None:
        # a cluster that is up has imported the libraries; the model load stays in the run
        with Client(address) as client:  # type: ignore[no-untyped-call]
            client.run(importlib.import_module, "newsapi.scoring.cluster")

    def worker_peaks(address: str) -> list[tuple[float, float]]:
        with Client(address) as client:  # type: ignore[no-untyped-call]
            usage = client.run(lambda: (peak_rss_mb(), cpu_seconds()))
            return sorted(tuple(value) for value in usage.values())

    if mode == "local":
        # the LocalCluster `--dask-scheduler local` starts, with the same settings
        from newsapi.scoring.cluster import connect

        with connect("local", 2) as client:
            local = client.scheduler.address
            warm(local)
            yield local, lambda: worker_peaks(local)
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "dask"]
    commands = [
        [*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        *[[*dask, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
           "--host", "127.0.0.1"] for _ in range(2)],
    ]  # fmt: skip
    processes = [
        subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for c in commands
    ]
    try:
        with Client(address, timeout="60s") as client:  # type: ignore[no-untyped-call]
            client.wait_for_workers(2, timeout=120)
        warm(address)
        yield address, lambda: worker_peaks(address)
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(30)


def run_child(mode: str, source: Path, artifacts: Path, scratch: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.score", "--child", mode, "--input", str(source),
               "--artifacts", str(artifacts), "--scratch", str(scratch)]  # fmt: skip
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=3600, check=False
    )
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise SystemExit(f"bench.score: the {mode} run failed: {tail}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["rows_per_s"] = round(result["rows"] / result["seconds"], 1)
    result["cpu_ms_per_row"] = round(1000 * result["cpu_s"] / result["rows"], 3)
    return result


def run_pair(source: Path, artifacts: Path, scratch: Path) -> dict[str, Any]:
    """Two ``floor`` children started together: their rows over the slower one's seconds."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        both = list(pool.map(lambda _: run_child("floor", source, artifacts, scratch), range(2)))
    rows, seconds = sum(run["rows"] for run in both), max(run["seconds"] for run in both)
    cpu = sum(run["cpu_s"] for run in both)
    return {"seconds": seconds, "rows": rows, "peak_rss_mb": max(r["peak_rss_mb"] for r in both),
            "cpu_s": cpu, "rows_per_s": round(rows / seconds, 1),
            "cpu_ms_per_row": round(1000 * cpu / rows, 3)}  # fmt: skip


def summarise(runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    rate = {mode: run["rows_per_s"] for mode, run in runs.items()}
    out: dict[str, Any] = {"rows_per_s": rate}
    if "pair" in rate and "floor" in rate:  # the machine's ceiling for two processes
        out["pair_over_floor"] = round(rate["pair"] / rate["floor"], 3)
    pairs = {"one_over_floor": ("one", "floor"), "local_over_one": ("local", "one"),
             "jobs_over_one": ("jobs", "one"), "cluster_over_one": ("cluster", "one")}  # fmt: skip
    for name, (a, b) in pairs.items():
        if a in rate and b in rate:
            out[name] = round(rate[a] / rate[b], 3)
            out[f"{name}_met"] = out[name] >= TARGETS[name]
    cpu = {mode: run["cpu_ms_per_row"] for mode, run in runs.items()}
    out["cpu_ms_per_row"] = cpu
    if "one" in cpu:  # the work each mode does per row, whatever else the machine runs
        out["cpu_over_one"] = {mode: round(cpu[mode] / cpu["one"], 3) for mode in cpu}
    digests = {run["answers_sha256"] for mode, run in runs.items() if "answers_sha256" in run}
    out["same_answers"] = len(digests) <= 1
    return out


def report(runs: dict[str, dict[str, Any]], summary: dict[str, Any], size: int) -> str:
    rows = next(iter(runs.values()))["rows"] if runs else 0
    lines = [f"input: {rows:,} posts, {size / 2**20:.1f} MiB of Parquet"]
    lines.append(
        f"{'mode':<9}{'rows/s':>9}{'seconds':>9}{'CPU ms/row':>12}{'peak RSS MB':>13}"
        "  workers' peak RSS MB"
    )
    for mode, run in runs.items():
        workers = ", ".join(f"{m:.0f}" for m in run.get("worker_peak_rss_mb", []))
        lines.append(
            f"{mode:<9}{run['rows_per_s']:>9,.0f}{run['seconds']:>9.1f}"
            f"{run['cpu_ms_per_row']:>12.2f}{run['peak_rss_mb']:>13.0f}  {workers}"
        )
    for name, target in TARGETS.items():
        if name in summary:
            mark = "PASS" if summary[f"{name}_met"] else "MISS"
            lines.append(
                f"{mark} {name.replace('_', ' ')}: {summary[name]:.2f}x (target >= {target}x)"
            )
    if "pair_over_floor" in summary:
        lines.append(
            f"two floor processes at once: {summary['pair_over_floor']:.2f}x one (this machine's "
            "ceiling for two processes)"
        )
    lines.append(f"answers: {'the same' if summary['same_answers'] else 'DIFFERENT'} in every run")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.score", description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000, help="posts in the input")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated, in order")
    parser.add_argument("--artifacts", type=Path, default=REPO / "artifacts")
    parser.add_argument("--results-dir", type=Path, default=REPO / "bench" / "results")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--scratch", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        if args.child == "floor":
            result = measure_floor(args.input, args.artifacts)
        else:
            out = args.scratch / f"{args.child}.out"
            result = measure_run(args.child, args.input, args.artifacts, out)
        print(json.dumps(result))
        return 0
    modes = [m for m in args.modes.split(",") if m]
    unknown = sorted(set(modes) - set(MODES))
    if unknown:
        parser.error(f"unknown modes {unknown}; choose from {list(MODES)}")
    with tempfile.TemporaryDirectory(prefix="bench-score-") as folder:
        scratch = Path(folder)
        source = scratch / "posts.parquet"
        build_input(source, args.rows)
        size = source.stat().st_size
        runs = {}
        for mode in modes:
            print(f"{mode} ...", flush=True)
            if mode == "pair":
                runs[mode] = run_pair(source, args.artifacts, scratch)
            else:
                runs[mode] = run_child(mode, source, args.artifacts, scratch)
            shutil.rmtree(scratch / f"{mode}.out", ignore_errors=True)
    summary = summarise(runs)
    print(report(runs, summary, size))
    args.results_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    record = {
        "when": stamp,
        "rows": args.rows,
        "input_bytes": size,
        "runs": runs,
        "summary": summary,
    }
    for name in (f"score-{stamp}.json", "latest-score.json"):
        (args.results_dir / name).write_text(json.dumps(record, indent=2))
    return 0 if summary["same_answers"] else 1


if __name__ == "__main__":
    sys.exit(main())
