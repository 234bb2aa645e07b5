"""Objects that test models pickle by reference (so they must live in an importable module)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

# In-process tests: the model sets HOLDING when it meets a "slow" text, then waits for RELEASE.
RELEASE = threading.Event()
HOLDING = threading.Event()


def hold_slow_texts(texts: Sequence[str]) -> Sequence[str]:
    """Identity, except for a batch with "slow" in a text: it is held.

    In a server process (NEWSAPI_TEST_HOLD_MARKER set) it touches that file and sleeps
    NEWSAPI_TEST_HOLD_SECONDS; in the test process it waits for :data:`RELEASE`.
    """
    if not any("slow" in text for text in texts):
        return texts
    marker = os.environ.get("NEWSAPI_TEST_HOLD_MARKER")
    if marker:
        Path(marker).touch()
        time.sleep(float(os.environ.get("NEWSAPI_TEST_HOLD_SECONDS", "2")))
    else:
        HOLDING.set()
        RELEASE.wait(60)
    return texts


def explode_on_marker(texts: Sequence[str]) -> Sequence[str]:
    """Identity, except that a text with "explode" in it fails the way a bug would, with a
    server path in its message (which must reach neither the client nor a traceback)."""
    if any("explode" in text for text in texts):
        raise RuntimeError("model step failed in /srv/secret/pipeline.py")
    return texts


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


def overlapping_sentences(per_topic: int = 40, seed: int = 0) -> list[tuple[str, str]]:
    """(text, label) pairs where each text has two words of its topic, two of any topic and
    filler: hard enough that sweep candidates score differently (unlike topic_sentences)."""
    import random

    from tests.conftest import FILLER, TOPICS

    rng = random.Random(seed)
    every = [word for words in TOPICS.values() for word in words.split()]
    rows = []
    for label, words in TOPICS.items():
        own = words.split()
        for _ in range(per_topic):
            picked = rng.sample(own, 2) + rng.sample(every, 2) + rng.sample(FILLER, 5)
            rng.shuffle(picked)
            rows.append((" ".join(picked), label))
    return rows
