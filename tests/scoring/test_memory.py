"""Resident memory stays bounded whatever the input's size: the peak of a real ``newsapi score``
process over a 640 MB CSV (several times its whole resident memory, ten times the bound) is at
most :data:`IN_FLIGHT` above the peak of the same command over a one-row file.

The peak is the kernel's high-water mark of the process (``VmHWM`` in ``/proc/<pid>/status``,
read until it exits, and its rusage at exit). Each row pairs a short text with a 10 kB column
the command does not score: the reader parses every byte, the model scores only the texts,
so the run takes seconds rather than minutes."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.scoring.helpers import Store
from tests.support import NEWSAPI

pytestmark = pytest.mark.slow

#: what the data in flight may add to the process (docs/score.md states it)
IN_FLIGHT = 64 * 2**20
INPUT_BYTES = 640 * 2**20
WORDS = [
    "rocket",
    "orbit",
    "launch",
    "recipe",
    "oven",
    "flour",
    "football",
    "goal",
    "match",
    "the",
    "a",
    "of",
]


def write_padded_csv(path: Path, size: int) -> Path:
    padding = "x" * 10_000
    with path.open("w", encoding="utf-8") as handle:
        handle.write("text,padding\n")
        written, i = 0, 0
        while written < size:
            line = f"{WORDS[i % 12]} {WORDS[i * 7 % 12]} {WORDS[i * 5 % 12]} {i},{padding}\n"
            written += handle.write(line)
            i += 1
    return path


def peak_rss(*args: str | Path) -> int:
    """Run ``newsapi score ARGS``; the process's peak resident memory, in bytes."""
    process = subprocess.Popen([NEWSAPI, "score", *map(str, args)], stdout=subprocess.DEVNULL)
    status = Path(f"/proc/{process.pid}/status")
    peak = 0
    while process.poll() is None:
        try:
            found = re.search(r"VmHWM:\s+(\d+) kB", status.read_text())
        except OSError:  # gone between poll() and the read
            break
        if found:
            peak = max(peak, int(found.group(1)) * 1024)
        time.sleep(0.01)
    assert process.wait() == 0
    assert peak > 0
    return peak


def test_memory_is_bounded_whatever_the_input_size(store: Store, tmp_path: Path) -> None:
    one = write_padded_csv(tmp_path / "one.csv", 1)
    large = write_padded_csv(tmp_path / "large.csv", INPUT_BYTES)
    base = peak_rss(one, "-o", tmp_path / "one.parquet", "--artifacts", store.root)
    peak = peak_rss(large, "-o", tmp_path / "large.parquet", "--artifacts", store.root)
    size = os.path.getsize(large)
    assert size >= 10 * IN_FLIGHT
    assert size >= 2.5 * peak, (size, peak)
    assert peak <= base + IN_FLIGHT, f"{base / 2**20:.0f} MiB -> {peak / 2**20:.0f} MiB"
