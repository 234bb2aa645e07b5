"""What HAProxy costs in front of newsapi: requests/s and p99 through the balancer against one
replica asked directly, in the same run (`make bench-balancer`, `python -m bench.balancer`).

Two containers of the image (`make image`), on the host network, serve the store
``artifacts/`` (mounted read-only); HAProxy runs from the repository's configuration
(deploy/haproxy/haproxy.cfg) in front of them. For each load (wrk, one thread, as in
`make bench`: bench/load.py) the three runs follow each other:

- **direct**: wrk to replica a's own port;
- **balancer, one replica**: wrk to HAProxy with b set to maintenance over the stats socket,
  so that the same replica serves through the balancer: the balancer's own cost;
- **balancer, two replicas**: wrk to HAProxy with both replicas in service.

Every replica and HAProxy share the machine's cores with wrk: on a machine with few cores the
two-replica run measures how the cores are shared, not a doubling.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
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

from bench.load import Scenario, WrkError, find_wrk, run_wrk
from bench.servers import HOST, free_port, post_json

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "deploy" / "haproxy" / "haproxy.cfg"
CONF = {"CONTAINERS_CONF": str(REPO / "deploy" / "podman" / "containers.conf")}
SCENARIOS = {
    "repeated": Scenario("repeated", "repeated.lua", "/prediction", unique=False),
    "unique": Scenario("unique", "unique.lua", "/prediction"),
}
READY_TIMEOUT = 120.0  # a bound on a container's start, not a measurement
PAUSE_SECONDS = 2.0  # between runs: the disk writer of a unique-text run catches up


def podman(*args: str) -> str:
    done = subprocess.run(["podman", *args], capture_output=True, text=True, check=False,
                          env={**os.environ, **CONF})  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def wait_until(condition: Any, what: str, timeout: float = READY_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.05)


def ready(port: int) -> bool:
    return post_json(port, "/prediction", {"text": "rocket launch"})[0] == 200


@contextmanager
def replicas(image: str, store: Path, ports: list[int]) -> Iterator[None]:
    """Containers of ``image`` on ``ports``, the store mounted, each ready; removed after."""
    names = [f"newsapi-bench-{os.getpid()}-{port}" for port in ports]
    try:
        for name, port in zip(names, ports, strict=True):
            podman("run", "--detach", "--name", name, "--network", "host", "--read-only",
                   "--volume", f"{store.resolve()}:/models:ro", "--env", f"NEWSAPI_PORT={port}",
                   image)  # fmt: skip
        for name, port in zip(names, ports, strict=True):
            wait_until(lambda port=port: ready(port), f"container {name} ready")
        yield
    finally:
        for name in names:
            with contextlib.suppress(RuntimeError):
                podman("rm", "--force", "--time", "10", name)


class HAProxy:
    """HAProxy from the repository's configuration, on ``port``, in front of two replicas."""

    def __init__(self, port: int, replica_ports: list[int]) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="haproxy-"))
        self.socket = self.folder / "haproxy.sock"
        env = {
            **os.environ,
            "NEWSAPI_LB_BIND": f"{HOST}:{port}",
            "NEWSAPI_REPLICA_A": f"{HOST}:{replica_ports[0]}",
            "NEWSAPI_REPLICA_B": f"{HOST}:{replica_ports[1]}",
            "NEWSAPI_LB_SOCKET": str(self.socket),
        }
        self.log = (self.folder / "haproxy.log").open("w")
        self.process = subprocess.Popen(["haproxy", "-db", "-f", str(CONFIG)], env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT)  # fmt: skip
        wait_until(lambda: self.socket.exists() and self.status() == ["UP", "UP"],
                   "HAProxy checking both replicas as UP", timeout=30)  # fmt: skip

    def ask(self, command: str) -> str:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(str(self.socket))
            sock.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def status(self) -> list[str]:
        """The status of servers a and b: UP, DOWN, MAINT..."""
        lines = self.ask("show stat").removeprefix("# ").splitlines()
        rows = {(row["pxname"], row["svname"]): row for row in csv.DictReader(lines)}
        return [rows["replicas", server]["status"] for server in ("a", "b")]

    def set_b(self, state: str) -> None:
        self.ask(f"set server replicas/b state {state}")

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def measure(wrk: str, port: int, scenario: Scenario, args: argparse.Namespace) -> dict[str, Any]:
    """A warm-up run, then the measured one; its figures."""
    nonce = os.urandom(6).hex()
    run_wrk(wrk, port, scenario, connections=args.connections, seconds=args.warmup,
            threads=1, nonce=nonce + "w")  # fmt: skip
    time.sleep(PAUSE_SECONDS)
    result = run_wrk(wrk, port, scenario, connections=args.connections, seconds=args.duration,
                     threads=1, nonce=nonce)  # fmt: skip
    time.sleep(PAUSE_SECONDS)
    if result.errors or result.cache_hits:
        raise WrkError(f"{result.errors} errors, {result.cache_hits} cache hits: {result.command}")
    return {"requests_per_s": result.requests_per_s, "p50_ms": result.p50_ms,
            "p99_ms": result.p99_ms, "errors": result.errors}  # fmt: skip


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.balancer",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--image", required=True, help="the image to run (make image)")
    parser.add_argument("--store", type=Path, default=REPO / "artifacts", help="the model store")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=8, help="seconds measured per run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per run")
    parser.add_argument("--scenarios", default="repeated,unique", help="repeated,unique")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk = find_wrk()
    missing = [tool for tool in ("podman", "haproxy") if shutil.which(tool) is None]
    if wrk is None or missing:
        print(f"missing: {' '.join(missing + ([] if wrk else ['wrk']))}: run 'make tools "
              "container-tools'", file=sys.stderr)  # fmt: skip
        return 1
    if not (args.store / "newsgroups_model.joblib").is_file():
        print(f"no promoted model in {args.store}/: run 'make train' first", file=sys.stderr)
        return 1
    found = subprocess.run(["podman", "image", "exists", args.image], env={**os.environ, **CONF},
                           check=False)  # fmt: skip
    if found.returncode != 0:
        print(f"no image {args.image}: run 'make image' first", file=sys.stderr)
        return 1
    started = datetime.now(UTC)
    load = os.getloadavg()[0]
    ports = [free_port(), free_port()]
    front = free_port()
    rows: list[dict[str, Any]] = []
    with replicas(args.image, args.store, ports):
        balancer = HAProxy(front, ports)
        try:
            for name in args.scenarios.split(","):
                scenario = SCENARIOS[name]
                rows.append({"scenario": name, "path": "direct",
                             **measure(wrk, ports[0], scenario, args)})  # fmt: skip
                balancer.set_b("maint")
                wait_until(lambda: balancer.status() == ["UP", "MAINT"], "b in maintenance", 10)
                rows.append({"scenario": name, "path": "balancer, one replica",
                             **measure(wrk, front, scenario, args)})  # fmt: skip
                balancer.set_b("ready")
                wait_until(lambda: balancer.status() == ["UP", "UP"], "b back", 30)
                rows.append({"scenario": name, "path": "balancer, two replicas",
                             **measure(wrk, front, scenario, args)})  # fmt: skip
        finally:
            balancer.close()
    print(f"{args.connections} connections, {args.duration} s per run, {os.cpu_count()} cores, "
          f"load average {load:.2f} before, {os.getloadavg()[0]:.2f} after")  # fmt: skip
    print(f"{'load':9} {'path':24} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'vs direct':>9}")
    for row in rows:
        direct = next(r for r in rows if r["scenario"] == row["scenario"] and r["path"] == "direct")
        ratio = row["requests_per_s"] / direct["requests_per_s"]
        print(f"{row['scenario']:9} {row['path']:24} {row['requests_per_s']:8.0f} "
              f"{row['p50_ms']:8.2f} {row['p99_ms']:8.2f} {ratio:8.2f}x")  # fmt: skip
    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / f"balancer-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    meta = {"started_utc": started.isoformat(), "image": args.image, "cpus": os.cpu_count(),
            "connections": args.connections, "duration_s": args.duration,
            "load_average_before": load, "load_average_after": os.getloadavg()[0]}  # fmt: skip
    path.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    print(f"written to {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
