"""Progress: plain lines with the share of the input, rows, rows/s and an ETA when the output
is not a terminal; a tqdm bar with rows and rows/s on one."""

from __future__ import annotations

import io
import re

from newsapi.scoring.progress import Progress, duration


def test_plain_lines_say_how_far_how_fast_and_how_long_is_left() -> None:
    stream = io.StringIO()
    progress = Progress(1_000, stream, bar=False, interval=0)
    progress.update(300, 250)
    progress.update(300, 250)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert re.fullmatch(
        r"newsapi score: 50% of the input, 600 rows, [\d,]+ rows/s, about \d+ s left", lines[1]
    ), lines[1]


def test_a_terminal_gets_a_bar_with_rows_per_second() -> None:
    stream = io.StringIO()
    progress = Progress(2**20, stream, bar=True)
    progress.update(1_000, 2**19)
    progress.close()
    shown = stream.getvalue()
    assert "50%|" in shown
    assert "512k/1.00M of the input" in shown
    assert re.search(r"1,000 rows, [\d,]+ rows/s", shown), shown


def test_durations_read_as_minutes_and_seconds() -> None:
    assert duration(42.4) == "42 s"
    assert duration(185) == "3 min 05 s"
