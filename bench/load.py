"""Driving ``wrk`` and reading its report.

One thread (``-t1``) by default: the machine has two cores for the server *and* the load
generator. wrk spends a few microseconds per request against the server's hundreds, so one
wrk thread saturates any of these apps while leaving the other core to the server; a second
wrk thread would only add a competitor for the cores the server needs. The harness records
wrk's own CPU time per run (``wrk_cores``) so that this can be checked on every run.
"""

from __future__ import annotations

import re
import resource
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.servers import HOST

BENCH_DIR = Path(__file__).resolve().parent
# generous, so that a slow answer is measured as latency rather than dropped as an error
# (a batch of 1,000 texts behind 127 others takes seconds by construction)
WRK_TIMEOUT_SECONDS = 30
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


@dataclass(frozen=True)
class Scenario:
    """A load shape: which script, which route, how many texts per request."""

    name: str
    script: str
    path: str
    texts_per_request: int = 1
    unique: bool = True
    v2: bool = False  # an Open Inference Protocol request (one text) instead of the book's

    def script_args(self, nonce: str) -> list[str]:
        """What the Lua script's ``init(args)`` receives."""
        if not self.unique:
            return []
        args = [str(BENCH_DIR), nonce]
        if self.v2:
            args.append("v2")
        elif self.texts_per_request > 1:
            args.append(str(self.texts_per_request))
        return args


@dataclass
class WrkResult:
    """What one wrk run measured."""

    requests: int
    seconds: float
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: dict[str, int]
    cache_hits: int | None
    wrk_cores: float
    command: list[str]

    @property
    def errors(self) -> int:
        """Answers that were not 2xx plus connect/read/write/timeout errors."""
        return self.non_2xx + sum(self.socket_errors.values())

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, with the derived error count."""
        return {**asdict(self), "errors": self.errors}


class WrkError(RuntimeError):
    """wrk failed or printed something this module cannot read."""


def find_wrk() -> str | None:
    """The wrk executable, if installed."""
    return shutil.which("wrk")


def wrk_version(wrk: str) -> str:
    """wrk's version line without its copyright (``wrk --version`` exits 1 after it)."""
    out = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
    lines = (out.stdout or out.stderr).splitlines()
    return lines[0].split(" Copyright")[0].strip() if lines else "wrk (unknown version)"


def _ms(value: str, unit: str) -> float:
    return float(value) * UNITS[unit]


def parse(output: str) -> dict[str, Any]:
    """Requests/sec, p50/p99, error counts and the scripts' ``bench-lua:`` line."""
    found: dict[str, Any] = {}
    match = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    if not match:
        raise WrkError(f"no Requests/sec in wrk's output:\n{output}")
    found["requests_per_s"] = float(match.group(1))
    match = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)", output, re.M)
    if not match:
        raise WrkError(f"no request count in wrk's output:\n{output}")
    found["requests"] = int(match.group(1))
    found["seconds"] = _ms(match.group(2), match.group(3)) / 1e3
    for percent in ("50", "99"):
        match = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.M)
        # no completed request, no distribution: a run of errors only
        found[f"p{percent}_ms"] = _ms(*match.groups()) if match else float("nan")
    match = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    kinds = ("connect", "read", "write", "timeout")
    found["socket_errors"] = (
        dict(zip(kinds, map(int, match.groups()), strict=True))
        if match
        else {kind: 0 for kind in kinds}
    )
    match = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    found["non_2xx"] = int(match.group(1)) if match else 0
    match = re.search(r"bench-lua: responses=(\d+) non2xx=(\d+) cache_hits=(\d+)", output)
    found["cache_hits"] = None
    if match:
        # wrk counts only 4xx/5xx; the script counts every non-2xx (a 3xx is wrong too)
        found["non_2xx"] = max(found["non_2xx"], int(match.group(2)))
        found["cache_hits"] = int(match.group(3))
    return found


def run_wrk(
    wrk: str,
    port: int,
    scenario: Scenario,
    *,
    connections: int,
    seconds: int,
    threads: int,
    nonce: str,
    cpus: str | None = None,
) -> WrkResult:
    """One wrk run of ``scenario`` against ``127.0.0.1:port``, pinned to ``cpus`` (a taskset
    CPU list) when given."""
    command = [
        wrk, f"-t{min(threads, connections)}", f"-c{connections}", f"-d{seconds}s",
        f"--timeout={WRK_TIMEOUT_SECONDS}s", "--latency",
        "-s", str(BENCH_DIR / scenario.script),
        f"http://{HOST}:{port}{scenario.path}",
    ]  # fmt: skip
    args = scenario.script_args(nonce)
    if args:
        command += ["--", *args]
    if cpus is not None:
        command = ["taskset", "-c", cpus, *command]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        out = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=seconds + WRK_TIMEOUT_SECONDS + 30,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise WrkError(f"wrk did not finish: {' '.join(command)}") from exc
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise WrkError(
            f"wrk exited with {out.returncode}: {' '.join(command)}\n{out.stdout}{out.stderr}"
        )
    found = parse(out.stdout)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return WrkResult(
        wrk_cores=round(cpu / max(found["seconds"], 1e-9), 3),
        command=command,
        **found,
    )
