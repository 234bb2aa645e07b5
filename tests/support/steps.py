"""Pipeline steps that test models pickle by reference, so they live in an importable module:
a server process started by a test unpickles them as ``tests.support.steps.<name>``."""

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
