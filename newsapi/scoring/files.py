"""The input's files as plain files: which ones a folder holds, how ``--resume`` recognises
them, and byte ranges of one, cut on line breaks and read with plain reads.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Stamp:
    """One input file as ``--resume`` recognises it: its name, size and modification time."""

    name: str
    size: int
    mtime_ns: int


def listed_files(folder: Path) -> list[Path]:
    """The regular files under ``folder`` in name order, hidden (``.``) and underscore
    (``_SUCCESS``, ``_metadata``) names left out at every level, as Spark and Dask do."""
    found = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        for name in sorted(names):
            if not name.startswith((".", "_")) and os.path.isfile(os.path.join(root, name)):
                found.append(Path(root) / name)
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def file_stamps(root: Path, files: list[Path]) -> tuple[Stamp, ...]:
    """The stamp of each of ``files``, named relative to ``root`` (a folder) or by its name."""
    out = []
    for file in files:
        stat = file.stat()
        name = file.relative_to(root).as_posix() if root.is_dir() else file.name
        out.append(Stamp(name, stat.st_size, stat.st_mtime_ns))
    return tuple(out)


def line_ranges(file: Path, size: int, length: int) -> Iterator[tuple[int, int]]:
    """Byte ranges covering the ``size`` bytes of ``file``, each of about ``length`` bytes,
    every cut moved to just after the next line break."""
    start = 0
    with file.open("rb") as handle:
        while start < size:
            stop = min(size, start + length)
            if stop < size:  # move the cut to just after the next line break
                handle.seek(stop)
                while True:
                    chunk = handle.read(64 * 2**10)
                    if not chunk:
                        stop = size
                        break
                    newline = chunk.find(b"\n")
                    if newline >= 0:
                        stop += newline + 1
                        break
                    stop += len(chunk)
            yield start, stop
            start = stop


class RangeFile(io.RawIOBase):
    """Bytes ``start`` to ``stop`` of a file, read with plain reads (a memory map would count
    every page of a large input as resident memory), counting what has been read."""

    def __init__(self, path: str | Path, start: int, stop: int) -> None:
        super().__init__()
        self._handle = open(path, "rb")  # noqa: SIM115  closed in close()
        self._handle.seek(start)
        self._left = stop - start
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), self._left)
        if wanted <= 0:
            return 0
        count = self._handle.readinto(view[:wanted]) or 0
        self._left -= count
        self.consumed += count
        return count

    def close(self) -> None:
        self._handle.close()
        super().close()
