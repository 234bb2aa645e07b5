"""The folder prometheus_client's multiprocess mode shares between workers, kept true and
bounded.

Each worker writes its values into files named by its pid (``counter_<pid>.db``,
``histogram_<pid>.db``, ``gauge_livesum_<pid>.db``...), and nothing in prometheus_client or
uvicorn removes them when the worker dies: a killed worker's live gauges (bytes of bodies it
held, the model version it served) would be reported for ever, and the folder would grow by
four files per death. :func:`fold_dead_workers` drops a dead worker's live gauges
(prometheus_client's ``mark_process_dead``) and folds its counters and histograms into one
file per kind, so that no count is lost and the folder holds the live workers' files plus
one file per kind. Workers call it at start-up and before every scrape.

:func:`server_folder` gives each ``newsapi serve`` start a folder of its own under a parent,
and removes the folders of servers that are gone: a start never empties a folder that a live
server writes to. Importing this module does not import prometheus_client, which chooses its
mode from :data:`MULTIPROCESS_ENV` when first imported: the command line sets the variable
first.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
LOCK = ".lock"  # not *.db: prometheus_client's collector reads only those
FOLDED = "folded"  # the file of the dead workers' values of a kind: counter_folded.db...
# kinds whose values add up across processes, so a dead worker's are kept as a sum; live
# gauges go with their worker; the other gauge modes are not used by newsapi (left as they are)
SUMMED = ("counter", "histogram", "summary", "gauge_sum")


def alive(pid: int) -> bool:
    """The process exists and is not a zombie (one its parent has not reaped yet is dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


@contextlib.contextmanager
def locked(folder: Path, *, exclusive: bool) -> Iterator[None]:
    """The folder's lock: shared while a scrape reads the files, exclusive while dead
    workers' files are folded (so that a scrape never counts a value twice or not at all)."""
    with open(folder / LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _dead_files(folder: Path) -> dict[int, list[Path]]:
    """The value files of processes that are gone, by pid."""
    dead: dict[int, list[Path]] = {}
    living: dict[int, bool] = {}
    for path in folder.glob("*.db"):
        pid_part = path.stem.rpartition("_")[2]
        if not pid_part.isdigit():
            continue  # a folded file
        pid = int(pid_part)
        if pid not in living:
            living[pid] = alive(pid)
        if not living[pid]:
            dead.setdefault(pid, []).append(path)
    return dead


def fold_dead_workers(folder: Path) -> int:
    """Drop the live gauges of every process gone from ``folder`` and fold its summed
    values into the folder's ``<kind>_folded.db`` files; the number of processes folded."""
    from prometheus_client import multiprocess

    if not _dead_files(folder):  # the usual case, without the exclusive lock
        return 0
    with locked(folder, exclusive=True):
        dead = _dead_files(folder)  # again: another worker may have folded them meanwhile
        by_kind: dict[str, list[Path]] = {}
        for pid, paths in dead.items():
            multiprocess.mark_process_dead(pid, str(folder))  # type: ignore[no-untyped-call]
            for path in paths:
                kind = path.stem.rpartition("_")[0]
                if kind in SUMMED:
                    by_kind.setdefault(kind, []).append(path)
        for kind, paths in by_kind.items():
            _fold(folder, kind, paths)
    return len(dead)


def _fold(folder: Path, kind: str, paths: list[Path]) -> None:
    """Add the values of ``paths`` to ``<kind>_folded.db`` (written whole, then swapped in),
    then remove them."""
    from prometheus_client.mmap_dict import MmapedDict

    target = folder / f"{kind}_{FOLDED}.db"
    totals: dict[str, float] = {}
    for path in [target, *paths] if target.exists() else paths:
        for key, value, _, _ in MmapedDict.read_all_values_from_file(str(path)):  # type: ignore[no-untyped-call]
            totals[key] = totals.get(key, 0.0) + value
    scratch = folder / f".{kind}_{FOLDED}.tmp"
    scratch.unlink(missing_ok=True)
    values = MmapedDict(str(scratch))  # type: ignore[no-untyped-call]
    try:
        for key, value in totals.items():
            values.write_value(key, value, 0.0)  # type: ignore[no-untyped-call]
    finally:
        values.close()  # type: ignore[no-untyped-call]
    scratch.replace(target)
    for path in paths:
        path.unlink(missing_ok=True)


def server_folder(parent: Path, pid: int) -> Path:
    """A new, empty folder for the server process ``pid`` under ``parent``; the folders of
    server processes that are gone are removed (never one whose process lives)."""
    parent.mkdir(parents=True, exist_ok=True)
    for entry in parent.iterdir():
        if entry.is_dir() and entry.name.isdigit() and not alive(int(entry.name)):
            shutil.rmtree(entry, ignore_errors=True)
    own = parent / str(pid)
    shutil.rmtree(own, ignore_errors=True)  # a folder of an earlier process with this pid
    own.mkdir()
    return own
