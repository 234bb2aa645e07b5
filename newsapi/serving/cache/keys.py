"""Cache keys: a fixed-size digest of ``(model_version, text)``.

Every tier is keyed by this digest rather than by the text, so that an entry costs the same
few bytes whatever the text's length (a text may be 100,000 characters, 400 KB of UTF-8).
BLAKE2b, keyed with the model version, costs ~0.5 µs for a short text; 16 bytes make a
collision between two texts as unlikely as between two random 128-bit numbers.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

DIGEST_BYTES = 16
# BLAKE2b takes a key of at most 64 bytes; model versions are 12 hex digits
_MAX_KEY = 64


@lru_cache(maxsize=8)
def _keyed(model_version: str) -> hashlib.blake2b:
    """BLAKE2b keyed with ``model_version``, before any text: each key starts from a copy of
    it (half the cost of keying a new hash for every text)."""
    version = model_version.encode()
    if len(version) > _MAX_KEY:
        version = hashlib.blake2b(version).digest()
    return hashlib.blake2b(digest_size=DIGEST_BYTES, key=version)


def entry_key(model_version: str, text: str) -> bytes:
    """The 16-byte key of ``text``'s answer under ``model_version``."""
    digest = _keyed(model_version).copy()
    # surrogatepass: a str may hold lone surrogates; they are part of what is hashed
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.digest()


def entry_keys(model_version: str, texts: list[str]) -> list[bytes]:
    """:func:`entry_key` of each text, in order."""
    keyed = _keyed(model_version)
    keys = []
    for text in texts:
        digest = keyed.copy()
        digest.update(text.encode("utf-8", "surrogatepass"))
        keys.append(digest.digest())
    return keys
