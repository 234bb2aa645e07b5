"""Starting, probing, measuring and stopping the uvicorn servers under test.

Every app runs as ``python -m uvicorn <app> --host 127.0.0.1 --port <free port> --workers N
--no-access-log --log-level warning`` from the repository root, in a new session (so that a
forced stop can take the whole process group, workers included), with its output in a log
file whose tail is shown when it fails.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
POLL_SECONDS = 0.01
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
LOG_TAIL_LINES = 30


class ServerError(RuntimeError):
    """A server did not start, died, or answered something unexpected."""


@dataclass(frozen=True)
class Probe:
    """The request whose 200 answer means "ready"."""

    method: str
    path: str
    body: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class AppSpec:
    """One app under test: its uvicorn target, its environment and how to ask if it's up."""

    name: str
    target: str
    probe: Probe
    # "{tmp}" in a value is replaced by the fresh temporary folder of each start
    env: Mapping[str, str] = field(default_factory=dict)
    # whether it serves POST /predictions (the reference apps do not)
    batch: bool = False
    # more uvicorn options (newsapi: the HTTP protocol `newsapi serve` uses)
    args: tuple[str, ...] = ()


def free_port() -> int:
    """A port nobody listens on right now (the kernel's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def request(
    port: int,
    method: str,
    path: str,
    body: Mapping[str, Any] | None = None,
    timeout: float = 10.0,
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request with the standard library: ``(status, headers, body)``."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        payload = None if body is None else json.dumps(body).encode()
        headers = {} if body is None else {"Content-Type": "application/json"}
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        answer = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, answer
    finally:
        conn.close()


def post_json(port: int, path: str, body: Mapping[str, Any]) -> tuple[int, Any]:
    """POST ``body`` as JSON; the status and the decoded answer (``None`` if not JSON)."""
    status, _, answer = request(port, "POST", path, body)
    try:
        return status, json.loads(answer)
    except ValueError:
        return status, None


def _clean_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """The harness's environment without any ``NEWSAPI_``/``BENCH_`` setting, plus ``extra``.

    A developer's own NEWSAPI_* variables would otherwise change what "the default
    configuration" means from one machine to the next.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("NEWSAPI_", "BENCH_"))
    }
    env.update(extra)
    return env


def _listening_inode(port: int) -> int | None:
    """The inode of the socket listening on ``HOST:port`` (from /proc/net/tcp)."""
    local = f"0100007F:{port:04X}"
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        if len(fields) > 9 and fields[1] == local and fields[3] == "0A":  # 0A: LISTEN
            return int(fields[9])
    return None


def children(pid: int) -> list[int]:
    """The processes ``pid`` started that still run (all its threads' children)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _descendants(pid: int) -> list[int]:
    found = children(pid)
    return found + [grandchild for child in found for grandchild in _descendants(child)]


def _holds_socket(pid: int, inode: int) -> bool:
    target = f"socket:[{inode}]"
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) == target:
                    return True
    return False


def _accepting(pid: int, inode: int) -> bool:
    """Whether ``pid`` has the listening socket in one of its epoll sets.

    uvicorn adds the socket to its event loop only after the lifespan start-up (the model
    load) has finished, so this tells a worker that serves from one still loading. The
    kernel lists an epoll set's members in /proc/<pid>/fdinfo/<epoll fd> as "tfd:" lines
    that carry the member's inode in hex.
    """
    needle = f"ino:{inode:x} "
    with contextlib.suppress(OSError):
        for info in Path(f"/proc/{pid}/fdinfo").iterdir():
            with contextlib.suppress(OSError):
                text = info.read_text()
                if "tfd:" in text and any(
                    line.startswith("tfd:") and needle in line + " " for line in text.splitlines()
                ):
                    return True
    return False


def rss_kib(pid: int) -> int | None:
    """Resident memory of ``pid`` (VmRSS), KiB."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time ``pid`` has used so far, with that of its children that
    have exited and been waited for, seconds."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        # the command name (field 2) may hold spaces; the fields after its ")" are fixed
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = sum(int(field) for field in fields[11:15])  # utime, stime, cutime, cstime
        return ticks / os.sysconf("SC_CLK_TCK")
    return None


class Server:
    """One running uvicorn; use :func:`running` to get one that is always stopped."""

    def __init__(self, app: AppSpec, workers: int, repo: Path, cpus: str | None = None) -> None:
        self.app = app
        self.workers = workers
        self.repo = repo
        # a taskset CPU list the server and all its threads and children are pinned to
        self.cpus = cpus
        self.port = free_port()
        self._tmp = tempfile.TemporaryDirectory(prefix=f"bench-{app.name}-")
        self.tmp = Path(self._tmp.name)
        self.log_path = self.tmp / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.ready_after: float | None = None
        self.all_ready_after: float | None = None
        self.worker_pids: list[int] = []

    # -- life cycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Launch uvicorn; returns at once (see :meth:`wait_ready`)."""
        env = _clean_environment(
            {key: value.replace("{tmp}", str(self.tmp)) for key, value in self.app.env.items()}
        )
        command = [
            sys.executable, "-m", "uvicorn", self.app.target,
            "--host", HOST, "--port", str(self.port), "--workers", str(self.workers),
            "--no-access-log", "--log-level", "warning", *self.app.args,
        ]  # fmt: skip
        if self.cpus is not None:  # taskset execs uvicorn: the pid stays the server's
            command = ["taskset", "-c", self.cpus, *command]
        with self.log_path.open("wb") as log:
            self.started_at = time.perf_counter()
            self.proc = subprocess.Popen(
                command,
                cwd=self.repo,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines the server printed."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:]) or "(empty log)"

    def _fail(self, why: str) -> ServerError:
        return ServerError(
            f"{self.app.name} ({self.workers} worker(s), port {self.port}) {why}; "
            f"its output ends with:\n{self.log_tail()}"
        )

    def _check_alive(self) -> None:
        assert self.proc is not None
        code = self.proc.poll()
        if code is not None:
            raise self._fail(f"exited with status {code} before answering")

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Poll the app's probe every 10 ms until it answers 200, then wait until every
        worker accepts connections. Records :attr:`ready_after` (first 200, seconds since
        :meth:`start`) and :attr:`all_ready_after`."""
        probe = self.app.probe
        deadline = self.started_at + timeout
        while True:
            self._check_alive()
            if time.perf_counter() > deadline:
                raise self._fail(f"did not answer {probe.method} {probe.path} in {timeout:.0f} s")
            try:
                status, _, _ = request(self.port, probe.method, probe.path, probe.body, 2.0)
            except OSError:  # refused (not listening yet) or reset: try again
                status = 0
            if status == 200:
                self.ready_after = time.perf_counter() - self.started_at
                break
            time.sleep(POLL_SECONDS)
        self._wait_workers(deadline)
        self.all_ready_after = time.perf_counter() - self.started_at

    def _wait_workers(self, deadline: float) -> None:
        """Find the worker processes and wait until each one accepts connections.

        With one worker uvicorn serves from the process itself; with more, the supervisor's
        children that hold the listening socket are the workers (its other child is
        multiprocessing's resource tracker).
        """
        assert self.proc is not None
        inode = _listening_inode(self.port)
        if inode is None:  # no /proc/net/tcp: trust the first answer
            self.worker_pids = [self.proc.pid]
            return
        while True:
            self._check_alive()
            if self.workers == 1:
                pids = [self.proc.pid]
            else:
                pids = [pid for pid in children(self.proc.pid) if _holds_socket(pid, inode)]
            if len(pids) == self.workers and all(_accepting(pid, inode) for pid in pids):
                self.worker_pids = sorted(pids)
                return
            if time.perf_counter() > deadline:
                raise self._fail(f"has {len(pids)} of {self.workers} workers accepting connections")
            time.sleep(POLL_SECONDS)

    def rss_kib(self) -> list[int]:
        """Resident memory of each worker, KiB."""
        return [kib for kib in map(rss_kib, self.worker_pids) if kib is not None]

    def cpu_seconds(self) -> list[float]:
        """CPU time used so far by each worker and the processes it started (newsapi's bulk
        process and disk-trim process), seconds; the supervisor idles."""
        return [
            sum(cpu_seconds(p) or 0.0 for p in [pid, *_descendants(pid)])
            for pid in self.worker_pids
        ]

    def stop(self) -> None:
        """SIGTERM (uvicorn shuts down gracefully), then SIGKILL the process group."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                print(f"  {self.app.name} ignored SIGTERM for {STOP_TIMEOUT:.0f} s: killing it")
                with contextlib.suppress(ProcessLookupError):
                    # the session we started: the supervisor, its workers, nothing else
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(STOP_TIMEOUT)
        if proc is not None:
            # sweep the session we started (workers orphaned by a supervisor that died on its
            # own); the group id cannot be reused while any member lives, so this reaches
            # nothing else
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        self._tmp.cleanup()


@contextlib.contextmanager
def running(app: AppSpec, workers: int, repo: Path, cpus: str | None = None) -> Iterator[Server]:
    """A started, ready server (pinned to ``cpus``, a taskset list, when given), stopped on
    the way out whatever happens."""
    server = Server(app, workers, repo, cpus)
    try:
        server.start()
        server.wait_ready()
        yield server
    finally:
        server.stop()
