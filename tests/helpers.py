"""Objects that test models pickle by reference (so they must live in an importable module)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

# Set by a test to let a held prediction finish.
RELEASE = threading.Event()
# Set by the model when it starts holding a prediction.
HOLDING = threading.Event()


def hold_slow_texts(texts: Sequence[str]) -> Sequence[str]:
    """Identity, except that a batch holding a text with "slow" in it waits for RELEASE."""
    if any("slow" in text for text in texts):
        HOLDING.set()
        RELEASE.wait(60)
    return texts
