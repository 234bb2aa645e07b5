"""The cache keys: fixed-size digests of the model version and the text."""

from __future__ import annotations

from newsapi.serving.cache.keys import DIGEST_BYTES, entry_key, entry_keys


def test_keys_are_fixed_size_and_depend_on_version_and_text() -> None:
    long = "x" * 90_000
    keys = {
        entry_key("v1", "a"),
        entry_key("v2", "a"),
        entry_key("v1", "b"),
        entry_key("v1", long),
        entry_key("v1", long + "y"),
        entry_key("v1", "\ud800"),  # a lone surrogate is hashed, not refused
        entry_key("v" * 100, "a"),  # a version longer than BLAKE2b's key
    }
    assert len(keys) == 7
    assert {len(key) for key in keys} == {DIGEST_BYTES}
    assert entry_key("v1", long) == entry_key("v1", "x" * 90_000)  # deterministic
    assert entry_keys("v1", ["a", "b"]) == [entry_key("v1", "a"), entry_key("v1", "b")]
