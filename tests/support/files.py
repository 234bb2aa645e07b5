"""The project's root folder, and the bytes a folder holds (as files and as disk blocks)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def folder_bytes(folder: Path) -> int:
    """Bytes of the files under ``folder``, tolerating files removed while it counts."""
    total = 0
    for directory, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                total += Path(directory, name).stat().st_size
    return total


def disk_usage(folder: Path) -> int:
    """What ``du`` counts for ``folder``: the blocks of its files and sub-folders, tolerating
    entries removed while it counts."""
    total = 0
    for directory, folders, files in os.walk(folder):
        for name in [*folders, *files]:
            try:
                total += Path(directory, name).lstat().st_blocks * 512
            except FileNotFoundError:
                continue
    return total
