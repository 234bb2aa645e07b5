"""HAProxy, from Debian's package, started from the repository's configuration
(deploy/haproxy/haproxy.cfg) in front of two replicas, and asked over its stats socket."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.files import ROOT
from tests.support.servers import free_port, wait_for

CONFIG = ROOT / "deploy" / "haproxy" / "haproxy.cfg"
BACKEND = "replicas"


@dataclass
class Balancer:
    """A running HAProxy whose backend ``replicas`` has the servers ``a`` and ``b``."""

    process: subprocess.Popen[str]
    url: str
    folder: Path  # its stats socket
    log_path: Path

    def ask(self, command: str) -> str:
        """One command on the stats socket (it answers, then closes the connection)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(str(self.folder / "haproxy.sock"))
            sock.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def stats(self) -> dict[str, dict[str, str]]:
        """`show stat` for the backend: a row for each server and one for the backend
        (``BACKEND``), by name; ``status`` is UP, DOWN, "UP 1/2" (failing), "DOWN 1/2"
        (recovering) or MAINT, ``hrsp_2xx`` counts its 2xx answers, ``wretr`` and ``wredis``
        its retries and redispatches."""
        text = self.ask("show stat").removeprefix("# ")
        rows = csv.DictReader(line for line in text.splitlines() if line)
        return {row["svname"]: row for row in rows if row["pxname"] == BACKEND}

    def status(self, server: str) -> str:
        return self.stats()[server]["status"]

    def wait_status(self, server: str, status: str, timeout: float = 60.0) -> None:
        wait_for(lambda: self.status(server) == status, timeout=timeout,
                 what=f"HAProxy marking {server} {status}")  # fmt: skip

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_balancer(replica_a: str, replica_b: str, log_path: Path) -> Balancer:
    """``haproxy -db -f deploy/haproxy/haproxy.cfg`` on a free port in front of the replicas
    at ``replica_a`` and ``replica_b`` (host:port), its log in ``log_path``; returns once it
    checks both as UP."""
    # a short folder of its own: a Unix socket's path is limited to 107 bytes
    folder = Path(tempfile.mkdtemp(prefix="haproxy-"))
    port = free_port()
    env = {
        **os.environ,
        "NEWSAPI_LB_BIND": f"127.0.0.1:{port}",
        "NEWSAPI_REPLICA_A": replica_a,
        "NEWSAPI_REPLICA_B": replica_b,
        "NEWSAPI_LB_SOCKET": str(folder / "haproxy.sock"),
    }
    with log_path.open("w") as log:
        process = subprocess.Popen(["haproxy", "-db", "-f", str(CONFIG)], env=env, stdout=log,
                                   stderr=subprocess.STDOUT, text=True)  # fmt: skip
    balancer = Balancer(process, f"http://127.0.0.1:{port}", folder, log_path)
    try:
        wait_for(lambda: (folder / "haproxy.sock").exists() or process.poll() is not None,
                 timeout=30, what="HAProxy's stats socket")  # fmt: skip
        assert process.poll() is None, balancer.log()
        for server in ("a", "b"):
            balancer.wait_status(server, "UP")
    except BaseException:
        balancer.stop()
        raise
    return balancer
