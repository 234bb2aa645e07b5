"""``python -m bench.pinned``: one worker on one core, the load on another (issue 21).

On a machine with fewer cores than the workers it is asked about, one worker with a core of
its own and a load generator that never competes with it is the nearest thing to one of many
workers. This starts each app with one uvicorn worker pinned to ``--server-cpu`` (the worker,
all its threads and children, with ``taskset``), runs wrk's unique texts pinned to
``--load-cpu`` at each connection count, and reports requests/s, latency, the share of its
core the worker used (its CPU seconds over the run's wall seconds, from ``/proc``: what it
did not use, it spent waiting) and that share for its event-loop thread and its other
threads. With ``--py-spy``, py-spy samples the measured run (idle frames included, pinned to
the load's core) and the report says where the event loop's thread was when it sampled.
Results go to ``bench/results/pinned-<UTC timestamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import pinned_probes as probes
from bench import texts
from bench.load import find_wrk, run_wrk
from bench.runner import MODEL, REPO, app_specs, scenarios
from bench.servers import running

APPS = ("newsapi", "floor")
PY_SPY_RATE = 200  # samples a second: enough for a few-second run, cheap for the load's core


def measure(args: argparse.Namespace, wrk: str) -> list[dict[str, Any]]:
    """Each app, one pinned worker, the unique texts at each connection count."""
    specs = app_specs(args.model)
    unique = scenarios(1)["unique"]
    extra = dict(pair.split("=", 1) for pair in args.env)
    rows: list[dict[str, Any]] = []
    for name in args.apps:
        app = specs[name]
        if name != "floor" and extra:
            app = type(app)(app.name, app.target, app.probe, {**app.env, **extra}, app.batch,
                             app.args)  # fmt: skip
        with running(app, 1, REPO, str(args.server_cpu)) as server:
            pid = server.worker_pids[0]
            for connections in args.connections:
                if args.warmup:  # wrk refuses a run of 0 s
                    run_wrk(wrk, server.port, unique, connections=connections,
                            seconds=args.warmup, threads=1, nonce=texts.new_nonce(),
                            cpus=str(args.load_cpu))  # fmt: skip
                    time.sleep(0.5)  # the disk writer catches up
                spy = None
                raw = Path(tempfile.mkstemp(prefix="pinned-", suffix=".txt")[1])
                if args.py_spy:
                    spy = subprocess.Popen(
                        ["taskset", "-c", str(args.load_cpu), args.py_spy_path, "record",
                         "--idle", "--threads", "--nonblocking", "--format", "raw",
                         "--rate", str(PY_SPY_RATE), "--duration", str(args.duration),
                         "--pid", str(pid), "--output", str(raw)],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    )  # fmt: skip
                batch_before = probes.batch_figures(server.port)
                sampler = probes.StateSampler(pid)
                sampler.start()
                threads_before = probes.threads_cpu(pid)
                cpu_before = sum(server.cpu_seconds())
                idle_before = probes.cpu_idle(args.server_cpu)
                result = run_wrk(wrk, server.port, unique, connections=connections,
                                 seconds=args.duration, threads=1, nonce=texts.new_nonce(),
                                 cpus=str(args.load_cpu))  # fmt: skip
                cpu = sum(server.cpu_seconds()) - cpu_before
                idle = probes.cpu_idle(args.server_cpu) - idle_before
                threads_after = probes.threads_cpu(pid)
                waiting = sampler.stop()
                batch_after = probes.batch_figures(server.port)
                calls = batch_after[1] - batch_before[1]
                seconds = max(result.seconds, 1e-9)
                main = threads_after.get(pid, 0.0) - threads_before.get(pid, 0.0)
                names = probes.thread_names(args.py_spy_path, pid)
                by_thread = {
                    f"{tid} {names.get(tid, '?')}": round((used - threads_before.get(tid, 0.0))
                                                          / seconds, 3)
                    for tid, used in threads_after.items()
                }  # fmt: skip
                row: dict[str, Any] = {
                    "app": name,
                    "connections": connections,
                    "requests_per_s": result.requests_per_s,
                    "p50_ms": result.p50_ms,
                    "p99_ms": result.p99_ms,
                    "errors": result.errors,
                    "worker_cores": round(cpu / seconds, 3),
                    "loop_thread_cores": round(main / seconds, 3),
                    "other_threads_cores": round((cpu - main) / seconds, 3),
                    # the worker's core was idle this share of the run: with other work on
                    # the machine, worker_cores can be short of 1 without any idling
                    "core_idle": round(idle / seconds, 3),
                    "wrk_cores": result.wrk_cores,
                    **waiting,
                    "threads_cores": by_thread,
                    "model_calls_per_s": round(calls / seconds, 1),
                    "texts_per_model_call": round((batch_after[0] - batch_before[0]) / calls, 2)
                    if calls
                    else None,
                }
                if spy is not None:
                    spy.wait(args.duration + 30)
                    if raw.stat().st_size:
                        row["py_spy"] = probes.summarise_py_spy(raw, pid)
                raw.unlink(missing_ok=True)
                rows.append(row)
                print(
                    f"{name:<8} c{connections:<3} {result.requests_per_s:>8.0f} req/s  "
                    f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  "
                    f"core {row['worker_cores']:.2f} (loop {row['loop_thread_cores']:.2f}, "
                    f"others {row['other_threads_cores']:.2f}) idle {row['core_idle']:.2f}  "
                    f"waiting {row['worker_waiting']:.2f} (wrk runnable "
                    f"{row['worker_waiting_wrk_runnable']:.2f})  "
                    f"batch {row['texts_per_model_call']}  errors {result.errors}",
                    flush=True,
                )
                print(f"         threads: {by_thread}", flush=True)
                if "py_spy" in row:
                    print(f"         event loop: {row['py_spy']['event_loop']}", flush=True)
    floor = {r["connections"]: r["requests_per_s"] for r in rows if r["app"] == "floor"}
    for row in rows:
        if row["app"] != "floor" and row["connections"] in floor:
            row["vs_floor"] = round(row["requests_per_s"] / floor[row["connections"]], 3)
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.pinned",
        description="One uvicorn worker pinned to one CPU, wrk's unique texts pinned to "
        "another: requests/s and the share of its core the worker used (issue 21).",
    )
    parser.add_argument(
        "--apps",
        type=lambda s: s.split(","),
        default=list(APPS),
        help="comma-separated, of newsapi and floor (default: both)",
    )
    parser.add_argument(
        "--connections",
        type=lambda s: [int(c) for c in s.split(",")],
        default=[8, 16, 32, 64],
        help="wrk connections (default: 8,16,32,64)",
    )
    parser.add_argument("--duration", type=int, default=5, help="seconds a measured run")
    parser.add_argument(
        "--warmup", type=int, default=1, help="seconds of warm-up before each (0: none)"
    )
    parser.add_argument("--server-cpu", type=int, default=0, help="the worker's CPU (0)")
    parser.add_argument("--load-cpu", type=int, default=1, help="wrk's and py-spy's CPU (1)")
    parser.add_argument(
        "--py-spy",
        action="store_true",
        help="sample each measured run with py-spy (idle frames included)",
    )
    parser.add_argument(
        "--py-spy-path",
        default=str(Path(sys.executable).parent / "py-spy"),
        help="the py-spy executable (default: the virtualenv's)",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable for newsapi (repeatable), for example "
        "NEWSAPI_BATCH_WINDOW_MS=1",
    )
    parser.add_argument("--results-dir", type=Path, default=REPO / "bench" / "results")
    parser.add_argument(
        "--model", type=Path, default=REPO / MODEL, help=f"the artifact to serve ({MODEL})"
    )
    args = parser.parse_args(argv)  # fmt: skip
    for name in args.apps:
        if name not in APPS:
            parser.error(f"--apps: {name!r} is not one of {', '.join(APPS)}")
    for pair in args.env:
        if "=" not in pair:
            parser.error(f"--env: {pair!r} is not NAME=VALUE")
    if args.duration < 1 or args.warmup < 0:
        parser.error("--duration must be ≥ 1, --warmup ≥ 0 (whole seconds: wrk)")
    cpus = os.sched_getaffinity(0)
    for cpu in (args.server_cpu, args.load_cpu):
        if cpu not in cpus:
            parser.error(f"CPU {cpu} is not one this process may use ({sorted(cpus)})")
    if args.py_spy and not shutil.which(args.py_spy_path):
        parser.error(f"--py-spy: no py-spy at {args.py_spy_path}")
    if not args.model.is_file():
        parser.error(f"--model: no model at {args.model}; run 'make train' first")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # the harness (its sampler, wrk's runs, py-spy) stays off the worker's core
    os.sched_setaffinity(0, {args.load_cpu})
    wrk = find_wrk()
    if wrk is None:
        print("wrk is not on the PATH: 'make tools' installs it", file=sys.stderr)
        return 1
    rows = measure(args, wrk)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    out = args.results_dir / f"pinned-{stamp}.json"
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    out.write_text(json.dumps({"settings": settings, "rows": rows}, indent=2))
    print(f"written {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
