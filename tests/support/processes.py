"""Processes as ``/proc`` shows them: memory, state, parent and children."""

from __future__ import annotations

import re
from pathlib import Path


def rss_bytes(pid: int) -> int:
    """The resident memory of process ``pid``."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    assert match, status
    return int(match.group(1)) * 1024


def process_state(pid: int) -> tuple[str, int] | None:
    """A process's state letter and parent pid, None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    # the command name (field 2) may hold spaces; the fields after its ")" are fixed
    state, ppid = stat.rpartition(")")[2].split()[:2]
    return state, int(ppid)


def exited(pid: int) -> bool:
    """Gone, or a zombie nobody reaped yet."""
    found = process_state(pid)
    return found is None or found[0] in "ZX"


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (of every one of its threads)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def worker_pids(supervisor: int) -> list[int]:
    """uvicorn's worker processes (multiprocessing also starts a resource tracker)."""
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    return [
        int(pid) for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
