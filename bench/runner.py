"""The benchmark run: compute floor, then each app under each load, then the report."""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import compute, fairness, report, texts
from bench.floor_app import CATEGORY as FLOOR_CATEGORY
from bench.load import Scenario, WrkError, find_wrk, run_wrk, wrk_version
from bench.servers import AppSpec, Probe, Server, ServerError, post_json, request, running

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
MODEL = Path("artifacts") / "newsgroups_model.joblib"
NO_MODEL = "no model in artifacts/: run 'make train' first"
CHECK_TEXT = "computer cpu memory ram"
SETTLE_TIMEOUT = 60.0  # the longest wait for the servers to be idle between runs
APPS = ("newsapi", "newsapi-log", "floor", "seed")
# Variants of newsapi measured in one scenario only, at the targets' connection count and
# 1 worker, right after newsapi's own run there, for a target comparing the two
# (report.log_target); the full run's default, not the smoke run's.
VARIANTS = {"newsapi-log": "unique"}
# The log's target compares two servers' rates, each of which drifts by several percent from
# one run to the next here: it reads the median of this many pairs (newsapi and the variant,
# one right after the other), the first pair being the scenario's own runs. The pairs after it
# take turns on which runs first, so that a machine slowing down (or speeding up) over the
# minute of a pair does not favour the same side in every pair.
VARIANT_PAIRS = 5
SCENARIOS = ("repeated", "unique", "v2", "explanation", "batch")  # batch last: it leaves a backlog
NEWSAPI_ONLY = {"batch", "v2", "explanation"}  # routes the reference apps do not have
V2_PATH = "/v2/models/newsgroups/infer"


@dataclass(frozen=True)
class Settings:
    """What this run measures, from the command line."""

    smoke: bool
    duration: int
    warmup: int
    connections: list[int]
    workers: list[int]
    apps: list[str]
    scenarios: list[str]
    batch_size: int
    threads: int
    results_dir: Path
    model: Path
    fairness: bool = True

    @property
    def total_runs(self) -> int:
        """How many measured wrk runs this will make."""
        per_workers = sum(
            len(self.connections)
            for app in self.apps
            if app not in VARIANTS
            for scenario in self.scenarios
            if scenario not in NEWSAPI_ONLY or app == "newsapi"
        )
        variants = sum(1 for app in self.apps if VARIANTS.get(app) in self.scenarios)
        if "newsapi" in self.apps:  # the pairs after the first
            variants *= 1 + 2 * (VARIANT_PAIRS - 1)
        return per_workers * len(self.workers) + variants * (report.TARGET_WORKERS in self.workers)


def _int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas: {text!r}"
        ) from None
    if not values or any(value < 1 for value in values):
        raise argparse.ArgumentTypeError(f"expected positive numbers: {text!r}")
    return values


def _choices(allowed: tuple[str, ...]) -> Any:
    def parse(text: str) -> list[str]:
        values = [part.strip() for part in text.split(",") if part.strip()]
        unknown = sorted(set(values) - set(allowed))
        if unknown or not values:
            raise argparse.ArgumentTypeError(f"choose from {','.join(allowed)}: {text!r}")
        return [name for name in allowed if name in values]  # canonical order

    return parse


def parse_args(argv: list[str] | None) -> Settings:
    """Defaults: the full run; ``--smoke`` changes the defaults, the other flags override."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark newsapi against the HTTP floor and the seed-style baseline.",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a short check that the harness and all three apps work (about 40 s): 2 s runs "
        "without warm-up, 1 and 4 connections, 1 worker, batches of 100; exits non-zero on a "
        "wrong answer or any error, never on timings",
    )
    parser.add_argument("--duration", type=int, help="seconds measured per run (full: 8)")
    parser.add_argument("--warmup", type=int, help="seconds of warm-up before each run, 0: none")
    parser.add_argument("--connections", type=_int_list, help="e.g. 1,32,128 (the default)")
    parser.add_argument("--workers", type=_int_list, help="uvicorn workers, e.g. 1,2 (default)")
    parser.add_argument(
        "--apps",
        type=_choices(APPS),
        help="subset of newsapi,newsapi-log,floor,seed (newsapi-log: newsapi with the "
        "prediction log on; not in the smoke run's default)",
    )
    parser.add_argument(
        "--scenarios",
        type=_choices(SCENARIOS),
        help="subset of repeated,unique,batch,v2,explanation",
    )
    parser.add_argument("--batch-size", type=int, help="texts per /predictions call (1000)")
    parser.add_argument(
        "--threads", type=int, default=1, help="wrk threads (1: see bench/README.md)"
    )
    parser.add_argument("--results-dir", type=Path, default=BENCH_DIR / "results")
    parser.add_argument(
        "--model", type=Path, default=REPO / MODEL, help=f"the artifact to serve ({MODEL})"
    )
    parser.add_argument(
        "--no-fairness",
        action="store_true",
        help="skip the fairness scenario (single texts beside big batches, bench/fairness.py)",
    )
    args = parser.parse_args(argv)
    smoke = bool(args.smoke)
    settings = Settings(
        smoke=smoke,
        duration=args.duration or (1 if smoke else 8),
        warmup=args.warmup if args.warmup is not None else (0 if smoke else 2),
        connections=args.connections or ([1, 4] if smoke else [1, 32, 128]),
        workers=args.workers or ([1] if smoke else [1, 2]),
        apps=args.apps or [app for app in APPS if not (smoke and app in VARIANTS)],
        scenarios=args.scenarios or list(SCENARIOS),
        batch_size=args.batch_size or (100 if smoke else 1000),
        threads=args.threads,
        results_dir=args.results_dir,
        model=args.model,
        fairness=not args.no_fairness and "newsapi" in (args.apps or APPS),
    )
    if settings.duration < 1 or settings.warmup < 0 or settings.threads < 1:
        parser.error("--duration and --threads must be ≥ 1, --warmup ≥ 0 (whole seconds: wrk)")
    if not 1 <= settings.batch_size <= 2000:
        parser.error("--batch-size must be between 1 and 2000 (the service's limit)")
    return settings


def app_specs(model: Path) -> dict[str, AppSpec]:
    """The apps; ``{tmp}`` is each start's fresh temporary folder."""
    probe_text = {"text": "readiness probe"}
    newsapi_env = {"NEWSAPI_CACHE_DIR": "{tmp}/cache", "NEWSAPI_MODEL_PATH": str(model)}
    protocol = ("--http", "newsapi.http.connections:HeaderTimeoutProtocol")
    return {
        "newsapi": AppSpec(
            "newsapi",
            "newsapi.app:app",
            Probe("GET", "/readyz"),
            newsapi_env,
            batch=True,
            args=protocol,
        ),
        # the same with the prediction log on, every answer logged (sample 1, no text), and
        # a file written every 2 s instead of every 60 s, so that each run pays for writing
        # files too, not only for measuring the records
        "newsapi-log": AppSpec(
            "newsapi-log",
            "newsapi.app:app",
            Probe("GET", "/readyz"),
            {
                **newsapi_env,
                "NEWSAPI_PREDICTION_LOG_DIR": "{tmp}/predictions",
                "NEWSAPI_PREDICTION_LOG_FILE_SECONDS": "2",
            },
            batch=True,
            args=protocol,
        ),
        "floor": AppSpec("floor", "bench.floor_app:app", Probe("POST", "/prediction", probe_text)),
        "seed": AppSpec(
            "seed",
            "bench.seed_app:app",
            Probe("POST", "/prediction", probe_text),
            {"BENCH_SEED_MODEL_PATH": str(model), "BENCH_SEED_CACHE_DIR": "{tmp}/cache"},
        ),
    }


# A scenario whose target compares it with another scenario's newsapi run is measured right
# after that scenario's runs (newsapi, floor, seed) at each connection count, not minutes
# later (this machine's speed drifts from minute to minute).
FOLLOWS = {"v2": "unique", "explanation": "unique"}


def scenarios(batch_size: int) -> dict[str, Scenario]:
    """The five loads."""
    return {
        "repeated": Scenario("repeated", "repeated.lua", "/prediction", unique=False),
        "unique": Scenario("unique", "unique.lua", "/prediction"),
        "batch": Scenario("batch", "unique.lua", "/predictions", texts_per_request=batch_size),
        "v2": Scenario("v2", "unique.lua", V2_PATH, v2=True),
        # {"text": ...} like /prediction's, explained (top 10 by default)
        "explanation": Scenario("explanation", "unique.lua", "/explanation"),
    }


class Oracle:
    """The model in this process: what a correct app answers."""

    def __init__(self, pipeline: Any, target_names: list[str]) -> None:
        self.pipeline = pipeline
        self.target_names = target_names

    def categories(self, batch: list[str]) -> list[str]:
        """In-process predictions of ``batch``."""
        return [self.target_names[int(i)] for i in self.pipeline.predict(batch)]


def check_answers(server: Server, oracle: Oracle, batch_route: bool) -> list[str]:
    """One real request per route, compared with the right answer; the problems found."""
    app = server.app.name
    samples = [CHECK_TEXT, *texts.batch(texts.new_nonce(), 2)]
    expected = oracle.categories(samples)
    problems = []
    checks: list[tuple[str, str]] = (
        [(CHECK_TEXT, FLOOR_CATEGORY)]
        if app == "floor"
        else list(zip(samples, expected, strict=True))
    )
    for text, want in checks:
        status, answer = post_json(server.port, "/prediction", {"text": text})
        if status != 200 or answer != {"category": want}:
            problems.append(
                f"{app}: POST /prediction {text[:40]!r} answered {status} {answer!r}, "
                f"expected 200 {{'category': {want!r}}}"
            )
    if batch_route:
        status, answer = post_json(server.port, "/predictions", {"texts": samples})
        if status != 200 or answer != {"categories": expected}:
            problems.append(
                f"{app}: POST /predictions answered {status} {answer!r}, "
                f"expected 200 {{'categories': {expected!r}}}"
            )
        v2 = {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [len(samples)],
                          "data": samples}]}  # fmt: skip
        status, answer = post_json(server.port, V2_PATH, v2)
        outputs = answer.get("outputs") if isinstance(answer, dict) else None
        if status != 200 or not outputs or outputs[0].get("data") != expected:
            problems.append(
                f"{app}: POST {V2_PATH} answered {status} {answer!r}, expected the "
                f"categories {expected!r}"
            )
        for text, want in zip(samples, expected, strict=True):
            status, answer = post_json(server.port, "/explanation", {"text": text})
            got = answer.get("category") if isinstance(answer, dict) else None
            if status != 200 or got != want:
                problems.append(
                    f"{app}: POST /explanation {text[:40]!r} answered {status} {answer!r}, "
                    f"expected the category {want!r}"
                )
    return problems


def _meta(model: Path, wrk: str, started: datetime) -> dict[str, Any]:
    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return out.stdout.strip()

    versions: dict[str, str | None] = {}
    for package in ("fastapi", "starlette", "uvicorn", "pydantic", "scikit-learn", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    try:
        manifest = json.loads(model.with_suffix(".json").read_text())
        model_version = str(manifest.get("model_version"))
    except (OSError, ValueError):
        model_version = "unknown"
    return {
        "started_utc": started.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "git_commit": git("rev-parse", "--short=12", "HEAD") or "unknown",
        "git_dirty": bool(git("status", "--porcelain")),
        "model_version": model_version,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "wrk": wrk_version(wrk),
        "versions": versions,
    }


class Run:
    """One benchmark run; :meth:`execute` returns the process exit status."""

    def __init__(self, settings: Settings, model: Path, wrk: str) -> None:
        self.settings = settings
        self.model = model
        self.wrk = wrk
        self.rows: list[report.Row] = []
        self.pairs: list[tuple[report.Row, report.Row]] = []  # see measure_pairs
        self.starts: list[report.Row] = []
        self.failures: list[str] = []
        self.compute: dict[str, Any] | None = None
        self.pipeline: Any = None  # the model, loaded in execute()
        self.ready: list[Server] = []  # the servers running now (see settle)
        self.fairness: dict[str, Any] | None = None
        self.done = 0

    def log(self, message: str) -> None:
        """Progress, as it happens."""
        print(message, flush=True)

    def execute(self) -> int:
        """Measure everything, write the results, return 0, or 1 when something failed."""
        settings = self.settings
        started = datetime.now(UTC)
        clock = time.perf_counter()
        self.log(
            f"bench: {settings.total_runs} runs of {settings.duration} s "
            f"(+{settings.warmup} s warm-up), wrk -t{settings.threads}, "
            f"connections {settings.connections}, workers {settings.workers}"
        )
        # Loaded with the service's own loader (checksum verified) and prepared as the service
        # prepares it (weights laid out, the lean path compiled), here, before any server
        # runs: the compute floor must not share the cores with one. The oracle answers with
        # scikit-learn's own predict.
        from newsapi.model.artifact import load_artifact
        from newsapi.serving.predictor import prepare

        artifact = load_artifact(self.model)
        predictor = prepare(artifact.pipeline)
        oracle = Oracle(artifact.pipeline, artifact.target_names)
        floor = compute.measure(
            artifact.pipeline, settings.batch_size, texts.new_nonce(), lean=predictor.lean
        )
        self.compute = floor.as_dict()
        self.log(report.compute_lines(self.compute)[0])

        self.pipeline = artifact.pipeline
        specs = app_specs(self.model)
        loads = scenarios(settings.batch_size)
        for workers in settings.workers:
            self.serve([specs[name] for name in settings.apps], workers, oracle, loads)
        if settings.fairness:
            self.measure_fairness(specs["newsapi"])

        result = self.result(started, time.perf_counter() - clock)
        self.print_report(result)
        self.write(result, started)
        return self.exit_status()

    def serve(
        self, apps: list[AppSpec], workers: int, oracle: Oracle, loads: dict[str, Scenario]
    ) -> None:
        """Start every app (one after the other, each alone while it starts), check them,
        then put them under each load in turn: the runs that a target compares follow each
        other, since this machine's speed drifts from minute to minute. Stop them all."""
        target = report.target_connections(self.settings.connections)
        with ExitStack() as stack:
            ready: list[tuple[Server, report.Row, list[str]]] = []
            for app in apps:
                only = VARIANTS.get(app.name)
                if only is not None:
                    if workers != report.TARGET_WORKERS or only not in self.settings.scenarios:
                        continue
                    mine, runs = [only], 1
                else:
                    mine = [name for name in self.settings.scenarios
                            if name not in NEWSAPI_ONLY or app.batch]  # fmt: skip
                    runs = len(mine) * len(self.settings.connections)
                server = self.start(stack, app, workers, oracle, runs)
                if server is not None:
                    ready.append((server, self.starts[-1], mine))
            self.ready = [server for server, _, _ in ready]
            for name in self.settings.scenarios:
                if FOLLOWS.get(name) in self.settings.scenarios:
                    continue  # measured right after the scenario it is compared with
                after = [n for n in self.settings.scenarios if FOLLOWS.get(n) == name]
                for connections in self.settings.connections:
                    for load in [name, *after]:
                        for server, _, mine in ready:
                            variant = server.app.name in VARIANTS
                            if load in mine and (not variant or connections == target):
                                self.measure(server, loads[load], connections)
                    if connections == target:
                        servers = [server for server, _, _ in ready]
                        self.measure_pairs(servers, loads, name, target)
            self.ready = []
            for server, start, _ in ready:
                start["rss_kib_after_load"] = server.rss_kib()

    def measure_pairs(
        self, servers: list[Server], loads: dict[str, Scenario], scenario: str, connections: int
    ) -> None:
        """After ``scenario``'s runs: the pairs after the first of each variant compared in
        it (:data:`VARIANT_PAIRS`), the variant first in the second, fourth... pair, newsapi
        first in the others; their rows go to :attr:`pairs` (newsapi's first), not the
        table."""
        by_name = {server.app.name: server for server in servers}
        base = by_name.get("newsapi")
        for name, load in VARIANTS.items():
            variant = by_name.get(name)
            if base is None or variant is None or load != scenario:
                continue
            for repeat in range(1, VARIANT_PAIRS):
                order = (variant, base) if repeat % 2 else (base, variant)
                first, second = (self.measure(server, loads[load], connections, repeat=repeat)
                                 for server in order)  # fmt: skip
                off, on = (second, first) if repeat % 2 else (first, second)
                if off is not None and on is not None:
                    self.pairs.append((off, on))

    def settle(self) -> None:
        """Wait until every running server is idle (its workers under 3% of a core for a
        second, at most :data:`SETTLE_TIMEOUT`): what a server still does after its load
        (newsapi's disk writer catches up once the traffic pauses) must not slow the next
        run or floor measurement. Not in smoke mode, whose timings count for nothing."""
        if self.settings.smoke:
            return
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while self.ready and time.monotonic() < deadline:
            before = [sum(server.cpu_seconds()) for server in self.ready]
            time.sleep(1.0)
            after = [sum(server.cpu_seconds()) for server in self.ready]
            if max(b - a for a, b in zip(before, after, strict=True)) < 0.03:
                return

    def start(
        self, stack: ExitStack, app: AppSpec, workers: int, oracle: Oracle, runs: int
    ) -> Server | None:
        """``app`` started and checked (stopped when ``stack`` closes); None if it failed."""
        start: report.Row = {"app": app.name, "workers": workers, "ready_s": None}
        self.starts.append(start)
        try:
            server = stack.enter_context(running(app, workers, REPO))
        except ServerError as exc:
            self.failures.append(str(exc).splitlines()[0])
            self.log(f"  SERVER FAILED {exc}")
            self.done += runs
            return None
        start["ready_s"] = server.ready_after
        start["all_ready_s"] = server.all_ready_after
        start["rss_kib_after_start"] = server.rss_kib()
        self.log(
            f"{app.name}, {workers} worker(s): ready after {server.ready_after:.2f} s "
            f"on port {server.port}"
        )
        problems = check_answers(server, oracle, app.batch)
        start["answers_ok"] = not problems
        if app.name == "newsapi":  # which path computes its answers (lean or scikit-learn)
            status, _, body = request(server.port, "GET", "/model")
            start["inference"] = json.loads(body).get("inference") if status == 200 else None
        if problems:
            self.failures += problems
            for problem in problems:
                self.log(f"  WRONG ANSWER {problem}")
            self.done += runs
            return None
        return server

    def measure(
        self, server: Server, scenario: Scenario, connections: int, repeat: int = 0
    ) -> report.Row | None:
        """Warm up, then one measured wrk run; a row in :attr:`rows` (a ``repeat`` of a
        variant's pair: only returned); None when wrk failed."""
        settings = self.settings
        self.done += 1
        again = f" (pair {repeat + 1})" if repeat else ""
        label = (
            f"[{self.done:>2}/{settings.total_runs}] {scenario.name:<8} {server.app.name:<7} "
            f"w{server.workers} c{connections:<3}{again}"
        )
        try:
            self.settle()
            if settings.warmup:
                # its own nonce: the measured run's texts are new to the server too
                run_wrk(self.wrk, server.port, scenario, connections=connections,
                        seconds=settings.warmup, threads=settings.threads,
                        nonce=texts.new_nonce())  # fmt: skip
            cpu_before = server.cpu_seconds()
            result = run_wrk(self.wrk, server.port, scenario, connections=connections,
                             seconds=settings.duration, threads=settings.threads,
                             nonce=texts.new_nonce())  # fmt: skip
            cpu_after = server.cpu_seconds()
            cpu = [after - before for after, before in zip(cpu_after, cpu_before, strict=True)]
        except WrkError as exc:
            self.failures.append(f"{label.strip()}: {exc}".splitlines()[0])
            self.log(f"{label} WRK FAILED {exc}")
            return None
        row: report.Row = {
            "scenario": scenario.name,
            "app": server.app.name,
            "workers": server.workers,
            "connections": connections,
            "texts_per_request": scenario.texts_per_request,
            "documents_per_s": result.requests_per_s * scenario.texts_per_request,
            "server_cores": round(sum(cpu) / max(result.seconds, 1e-9), 3),
            # uneven shares mean the kernel gave one worker most of the connections
            "server_cores_by_worker": [round(c / max(result.seconds, 1e-9), 3) for c in cpu],
            **result.as_dict(),
        }
        if scenario.texts_per_request > 1:  # the compute floor, measured again beside it
            self.settle()
            row["compute_documents_per_s"] = compute.batch_rate(
                self.pipeline, scenario.texts_per_request, texts.new_nonce()
            )
        if server.app.name in VARIANTS:  # what the log could not keep up with: not measured
            row["log_dropped"] = log_dropped(server.port)
        if repeat:
            row["pair"] = repeat + 1
        else:
            self.rows.append(row)
        hits = "" if result.cache_hits is None else f", {result.cache_hits} cache hits"
        self.log(
            f"{label} {result.requests_per_s:>9.1f} req/s  p50 {result.p50_ms:.2f} ms  "
            f"p99 {result.p99_ms:.2f} ms  {result.errors} errors{hits}"
        )
        if scenario.unique and result.cache_hits:
            # the generator's promise is broken: the unique figures would be wrong
            self.failures.append(f"{label.strip()}: {result.cache_hits} cache hits")
        return row

    def measure_fairness(self, app: AppSpec) -> None:
        """The fairness scenario on a fresh newsapi, 1 worker (see bench/fairness.py)."""
        settings = self.settings
        connections = report.target_connections(settings.connections)
        self.log(f"fairness: single texts at {connections} connections, alone then beside "
                 "two clients sending big batches")  # fmt: skip
        try:
            with running(app, 1, REPO) as server:
                self.fairness = fairness.measure(
                    self.wrk, server, connections=connections, seconds=settings.duration,
                    warmup=settings.warmup, threads=settings.threads,
                    batch_texts=200 if settings.smoke else fairness.BATCH_TEXTS,
                )  # fmt: skip
        except (ServerError, WrkError) as exc:
            self.failures.append(f"fairness: {exc}".splitlines()[0])
            self.log(f"  FAIRNESS FAILED {exc}")
            return
        for target in report.fairness_targets(self.fairness):
            self.log(f"  {target.verdict:<4} {target.name}: {target.detail}")

    def result(self, started: datetime, elapsed: float) -> dict[str, Any]:
        """Everything measured, JSON-ready."""
        settings = self.settings
        docs_per_s = self.compute["documents_per_s"] if self.compute else None
        report.add_ratios(self.rows, docs_per_s)
        targets = report.evaluate(
            self.rows, self.starts, self.compute, settings.connections, settings.batch_size
        )
        targets += [report.tail_target(self.rows), *report.fairness_targets(self.fairness)]
        targets += report.lean_targets(self.rows, self.compute, settings.connections)
        targets.append(report.log_target(self.rows, settings.connections, self.pairs))
        return {
            "meta": _meta(self.model, self.wrk, started),
            "settings": {
                "smoke": settings.smoke,
                "duration_s": settings.duration,
                "warmup_s": settings.warmup,
                "connections": settings.connections,
                "workers": settings.workers,
                "apps": settings.apps,
                "scenarios": settings.scenarios,
                "batch_size": settings.batch_size,
                "wrk_threads": settings.threads,
                "uvicorn": "--host 127.0.0.1 --workers N --no-access-log --log-level warning",
            },
            "elapsed_s": elapsed,
            "compute_floor": self.compute,
            "starts": self.starts,
            "runs": [_json_safe(row) for row in self.rows],
            "variant_pairs": [[_json_safe(off), _json_safe(on)] for off, on in self.pairs],
            "fairness": None
            if self.fairness is None
            else {k: _json_safe(v) if isinstance(v, dict) else v for k, v in self.fairness.items()},
            "targets": [target.as_dict() for target in targets],
            "failures": self.failures,
        }

    def print_report(self, result: dict[str, Any]) -> None:
        """The table, the targets, start-up and memory."""
        self.log("")
        self.log(report.text_table(result["runs"]))
        self.log(report.TABLE_NOTES)
        self.log("")
        for line in report.compute_lines(result["compute_floor"]):
            self.log(line)
        for line in report.start_lines(result["starts"]):
            self.log(line)
        at = report.target_connections(self.settings.connections)
        self.log("")
        self.log(f"targets (1 worker, {at} connections; ratios within this run):")
        for target in result["targets"]:
            self.log(f"  {target['verdict']:<4} {target['name']}: {target['detail']}")
        if self.settings.smoke:
            self.log("(smoke mode: timings are not asserted)")
        for failure in result["failures"]:
            self.log(f"FAILED: {failure}")

    def write(self, result: dict[str, Any], started: datetime) -> None:
        """``<UTC timestamp>.json`` and ``.md`` under the results folder, and ``latest``."""
        folder = self.settings.results_dir
        folder.mkdir(parents=True, exist_ok=True)
        stem = started.strftime("%Y%m%dT%H%M%SZ") + ("-smoke" if self.settings.smoke else "")
        latest = "latest-smoke" if self.settings.smoke else "latest"
        json_path = folder / f"{stem}.json"
        md_path = folder / f"{stem}.md"
        json_path.write_text(json.dumps(result, indent=2, allow_nan=False) + "\n")
        md_path.write_text(report.markdown(result))
        shutil.copyfile(md_path, folder / f"{latest}.md")
        shutil.copyfile(json_path, folder / f"{latest}.json")
        self.log(f"results: {_shown(json_path)}, {_shown(md_path)}")

    def exit_status(self) -> int:
        """1 on a failure; in smoke mode also on any error (timings never count)."""
        if self.failures:
            return 1
        if self.settings.smoke and any(row["errors"] for row in self.rows):
            print("FAILED: some runs had errors (non-2xx answers or socket errors)")
            return 1
        return 0


def log_dropped(port: int) -> float | None:
    """The records newsapi's prediction log dropped so far (its /metrics), None if unread."""
    try:
        status, _, body = request(port, "GET", "/metrics")
    except OSError:
        return None
    if status != 200:
        return None
    prefix = "newsapi_prediction_log_dropped_total{"
    lines = body.decode().splitlines()
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith(prefix))


def _json_safe(row: report.Row) -> report.Row:
    """NaN (no latency when nothing completed) becomes null."""
    return {
        key: None if isinstance(value, float) and math.isnan(value) else value
        for key, value in row.items()
    }


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """``python -m bench``; the exit status."""
    settings = parse_args(argv)
    model = settings.model.resolve()
    if not model.is_file():
        print(
            NO_MODEL if settings.model == REPO / MODEL else f"no model at {model}", file=sys.stderr
        )
        return 1
    wrk = find_wrk()
    if wrk is None:
        print("wrk is not installed: run 'make tools' (Debian package wrk)", file=sys.stderr)
        return 1
    # SIGTERM unwinds like Ctrl-C, so that the running server is stopped on the way out
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return Run(settings, model, wrk).execute()
    except KeyboardInterrupt:
        print("bench: interrupted; servers stopped, no results written", file=sys.stderr)
        return 130
