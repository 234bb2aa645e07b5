"""What :mod:`bench.pinned` reads about a running worker: its threads' CPU time and names,
its core's idle time, a sampler of its threads' states, newsapi's texts per model call, and a
summary of a py-spy recording."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from bench.servers import children, request

SAMPLE_SECONDS = 0.0005  # how often the state sampler looks at the worker's threads


def states(pid: int) -> list[str]:
    """The scheduler state of each thread of ``pid`` (R: running or waiting for a CPU)."""
    found: list[str] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:  # the process ended
        return found
    for task in tasks:
        try:
            found.append((task / "stat").read_text().rsplit(")", 1)[1].split()[0])
        except (OSError, IndexError):
            continue
    return found


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


class StateSampler(threading.Thread):
    """Looks at the worker's threads and wrk's every :data:`SAMPLE_SECONDS` until stopped:
    how often none of the worker's threads could run (it waited: for clients, for a
    thread's wake-up or for the disk), and how often wrk could run meanwhile."""

    def __init__(self, worker: int) -> None:
        super().__init__(daemon=True)
        self.worker = worker
        self.samples = 0
        self.idle = 0
        self.idle_wrk_runnable = 0
        self._done = threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self._done.wait(SAMPLE_SECONDS):
            wrk = [pid for pid in children(me) if _comm(pid) == "wrk"]
            found = states(self.worker)
            if not found:
                continue
            self.samples += 1
            if "R" not in found:
                self.idle += 1
                if any("R" in states(pid) for pid in wrk):
                    self.idle_wrk_runnable += 1

    def stop(self) -> dict[str, float]:
        self._done.set()
        self.join()
        samples = max(self.samples, 1)
        return {
            "samples": self.samples,
            "worker_waiting": round(self.idle / samples, 3),
            "worker_waiting_wrk_runnable": round(self.idle_wrk_runnable / samples, 3),
        }


def batch_figures(port: int) -> tuple[float, float]:
    """newsapi's micro-batch size histogram so far: (sum, count); zeros without one."""
    status, _, body = request(port, "GET", "/metrics")
    found = {"sum": 0.0, "count": 0.0}
    if status == 200:
        for line in body.decode().splitlines():
            for part in found:
                if line.startswith(f"newsapi_model_batch_size_{part} "):
                    found[part] = float(line.split()[1])
    return found["sum"], found["count"]


def threads_cpu(pid: int) -> dict[int, float]:
    """CPU seconds so far of each thread of ``pid``, by thread id."""
    found: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended
            continue
        found[int(task.name)] = (int(fields[11]) + int(fields[12])) / tick
    return found


def thread_names(py_spy: str, pid: int) -> dict[int, str]:
    """Python's name for each thread of ``pid``, by thread id (from ``py-spy dump``); without
    py-spy (it is not among the project's packages), the kernel's names, the main thread's
    as Python calls it (Python 3.11 gives the kernel no thread name)."""
    if shutil.which(py_spy) is None:
        return _kernel_names(pid)
    out = subprocess.run([py_spy, "dump", "--pid", str(pid)], capture_output=True, text=True,
                         check=False)  # fmt: skip
    names: dict[int, str] = {}
    for line in out.stdout.splitlines():
        if line.startswith("Thread "):
            words = line.split(maxsplit=2)
            tid = int(words[1], 0)
            names[tid] = words[2].split(":", 1)[-1].strip().strip('"') if ":" in words[2] else ""
    return names


def _kernel_names(pid: int) -> dict[int, str]:
    names: dict[int, str] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            names[int(task.name)] = (task / "comm").read_text().strip()
        except OSError:  # the thread ended
            continue
    names[pid] = "MainThread"
    return names


def cpu_idle(cpu: int) -> float:
    """Seconds ``cpu`` has been idle so far (idle and iowait, from ``/proc/stat``)."""
    for line in Path("/proc/stat").read_text().splitlines():
        fields = line.split()
        if fields[0] == f"cpu{cpu}":
            return (int(fields[4]) + int(fields[5])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def _function(frame: str) -> str:
    """A py-spy frame's bare function name: ``EpollSelector.select (selectors.py:468)``
    gives ``select``."""
    return frame.split(" (", 1)[0].rsplit(".", 1)[-1]


def _where(frames: list[str]) -> str:
    """What a sampled stack of the event loop's thread was doing, in a few words."""
    if frames and _function(frames[-1]) == "select" and "selectors.py" in frames[-1]:
        return "waiting in epoll (nothing to do)"
    names = {_function(frame) for frame in frames}
    if "_compute_here" in names or "categories" in names:
        return "computing texts on the event loop (lean path)"
    return "serving (HTTP, JSON, the service)"


#: the functions in which a thread waits (py-spy's raw output does not say idle or not)
WAITS = {"wait", "get", "_worker", "select", "acquire", "sleep", "_wait_for_tstate_lock"}


def summarise_py_spy(raw: Path, main_tid: int) -> dict[str, Any]:
    """Samples of the event loop's thread by :func:`_where`, and of the other threads by
    whether their leaf frame is a wait (a lock, a queue, a condition, a selector)."""
    loop: Counter[str] = Counter()
    others: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack.startswith("thread (") or not count.isdigit():
            continue
        frames = stack.split(";")  # "thread (TID): NAME", then the frames, outermost first
        tid = frames[0].removeprefix("thread (").split(")", 1)[0]
        if tid.isdigit() and int(tid) == main_tid:
            loop[_where(frames[1:])] += int(count)
        else:
            idle = _function(frames[-1]) in WAITS
            others["waiting" if idle else "running"] += int(count)
    total = sum(loop.values()) or 1
    return {
        "event_loop": {k: round(v / total, 3) for k, v in loop.most_common()},
        "event_loop_samples": sum(loop.values()),
        "other_threads": dict(others),
    }
