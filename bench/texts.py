"""Short newsgroup-style messages in Python: the recipe of ``texts.lua``.

The harness uses these for the in-process compute floor and for its correctness checks, so
that the model sees the same kind of text there as under ``wrk``.
"""

from __future__ import annotations

import random
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
# texts.lua pastes words into JSON strings unescaped: this is what that needs
SAFE_ENTRY = re.compile(r"[A-Za-z0-9' -]+")


def entries(path: Path) -> list[str]:
    """The non-comment, non-empty lines of ``path``, checked to need no JSON escaping."""
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        if not SAFE_ENTRY.fullmatch(line):
            raise ValueError(f"{path.name}: {line!r} has characters texts.lua cannot send")
        found.append(line)
    if not found:
        raise ValueError(f"no entries in {path}")
    return found


def new_nonce() -> str:
    """A fresh run nonce: 12 hex digits, as the Lua scripts expect."""
    return secrets.token_hex(6)


def messages(nonce: str, stream: int = 0) -> Iterator[str]:
    """An endless stream of distinct messages, like ``texts.lua``'s for thread ``stream``."""
    words = entries(BENCH_DIR / "vocabulary.txt")
    openers = entries(BENCH_DIR / "openers.txt")
    rng = random.Random(int(nonce[:8], 16) + stream * 7919)
    count = 0
    while True:
        count += 1
        first = [rng.choice(openers).capitalize()]
        first += [rng.choice(words) for _ in range(rng.randint(9, 13))]
        second = [rng.choice(words).capitalize()]
        second += [rng.choice(words) for _ in range(rng.randint(6, 10))]
        yield f"{' '.join(first)}. {' '.join(second)}? (ref {nonce}-{stream}-{count})"


def batch(nonce: str, size: int, stream: int = 0) -> list[str]:
    """``size`` distinct messages."""
    stream_of = messages(nonce, stream)
    return [next(stream_of) for _ in range(size)]
