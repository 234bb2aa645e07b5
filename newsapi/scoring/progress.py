"""How far a run is: a progress bar (tqdm) on a terminal, a plain line every few seconds
otherwise (a log file, CI), both counting input bytes for the ETA and rows for the rate."""

from __future__ import annotations

import time
from typing import Any, TextIO

#: seconds between two plain progress lines
LINE_INTERVAL = 10.0


def duration(seconds: float) -> str:
    """``"42 s"``, ``"3 min 05 s"``."""
    seconds = max(0, round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


class Progress:
    """Told after each batch how many rows and input bytes it covered."""

    def __init__(
        self, total_bytes: int, stream: TextIO, *, bar: bool, interval: float = LINE_INTERVAL
    ) -> None:
        self.total = max(1, total_bytes)
        self.interval = interval
        self.stream = stream
        self.rows = 0
        self.done = 0
        self.started = time.monotonic()
        self._last_line = self.started
        self._last_postfix = 0.0
        self._bar: Any = None
        if bar:
            from tqdm import tqdm

            self._bar = tqdm(
                total=total_bytes,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                file=stream,
                dynamic_ncols=True,
                bar_format="{percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} of the input "
                "[{elapsed}<{remaining}] {postfix}",
            )

    def update(self, rows: int, nbytes: int) -> None:
        self.rows += rows
        self.done += nbytes
        now = time.monotonic()
        if self._bar is not None:
            if now - self._last_postfix >= 0.2:
                self._bar.set_postfix_str(f"{self.rows:,} rows, {self.rate(now):,.0f} rows/s")
                self._last_postfix = now
            self._bar.update(nbytes)
        elif now - self._last_line >= self.interval:
            self._last_line = now
            self.stream.write(self.line(now) + "\n")
            self.stream.flush()

    def rate(self, now: float) -> float:
        return self.rows / max(1e-9, now - self.started)

    def line(self, now: float) -> str:
        share = self.done / self.total
        elapsed = now - self.started
        left = elapsed * (1 - share) / share if share > 0 else float("nan")
        eta = duration(left) if left == left else "?"
        return (
            f"newsapi score: {share:.0%} of the input, {self.rows:,} rows, "
            f"{self.rate(now):,.0f} rows/s, about {eta} left"
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
