"""A real Dask cluster for the system tests: a ``dask scheduler`` and single-threaded
``dask worker`` processes on 127.0.0.1, started as the docs tell a user to start them."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers import free_port, wait_for


@dataclass
class DaskCluster:
    """The scheduler's address and the processes: the scheduler first, then the workers."""

    address: str
    processes: list[subprocess.Popen[bytes]]

    @property
    def worker_pids(self) -> set[int]:
        return {process.pid for process in self.processes[1:]}


@contextlib.contextmanager
def dask_cluster(logs: Path, workers: int = 2) -> Iterator[DaskCluster]:
    """A scheduler and ``workers`` workers, their output in ``logs``; yielded once every
    worker has joined, stopped (the workers, then the scheduler; each terminated, killed after
    20 s) on leaving."""
    from distributed import Client

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "dask"]
    commands = [
        [*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        *[
            [*dask, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
             "--host", "127.0.0.1", "--name", f"worker-{i}"]
            for i in range(workers)
        ],
    ]  # fmt: skip
    processes = []
    for i, command in enumerate(commands):
        log = (logs / f"{i}.log").open("wb")
        processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
    try:
        wait_for(lambda: _listening(port), timeout=60, what="the dask scheduler")
        with Client(address, timeout="30s") as client:  # type: ignore[no-untyped-call]
            client.wait_for_workers(workers, timeout=60)
        yield DaskCluster(address, processes)
    finally:
        # the workers first, while their scheduler still answers: a worker told to stop
        # says goodbye to it, and waited 20 s and more when both were stopped at once
        for process in processes[1:]:
            process.terminate()
        for process in [*processes[1:], processes[0]]:
            if process is processes[0]:
                process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
