"""The memory tier: a byte-bounded LRU keyed by fixed-size digests."""

from __future__ import annotations

import tracemalloc

from newsapi.serving.cache.keys import entry_key, entry_keys
from newsapi.serving.cache.memory import ENTRY_BYTES, MemoryTier


def test_memory_tier_is_bounded_lru() -> None:
    a, b, c, d, e = entry_keys("v1", list("abcde"))
    tier = MemoryTier(2, 2**20)
    tier.use("v1")
    tier.put_many("v1", {a: "x"})
    tier.put_many("v1", {b: "y"})
    assert tier.get("v1", a) == "x"  # now b is the least recently used
    tier.put_many("v1", {c: "z"})
    assert (tier.get("v1", a), tier.get("v1", b), tier.get("v1", c)) == ("x", None, "z")
    assert len(tier) == 2
    tier.put_many("v1", {d: "w", e: "v"})  # bulk too: the least recent go
    assert tier.get_many("v1", [a, c, d, e]) == [None, None, "w", "v"]
    tier.put_many("v1", {a: "x", c: "z"})
    assert tier.get("v2", a) is None  # another model version is another key
    tier.put_many("v2", {a: "other"})  # a late answer of another model is not kept
    assert tier.get("v1", a) == "x"
    tier.use("v2")  # a reload: the old answers go
    assert len(tier) == 0
    assert tier.get("v1", a) is None


def test_the_byte_bound_sets_the_entry_bound() -> None:
    assert MemoryTier(100_000, 10 * ENTRY_BYTES).max_entries == 10
    assert MemoryTier(5, 2**30).max_entries == 5
    assert MemoryTier(100_000, 0).max_entries == 0  # off
    tier = MemoryTier(100_000, 10 * ENTRY_BYTES)
    tier.use("v1")
    tier.put_many("v1", dict.fromkeys(entry_keys("v1", [str(i) for i in range(50)]), "x"))
    assert len(tier) == 10


def test_a_full_tier_of_long_texts_holds_no_more_than_its_bytes() -> None:
    """Texts of 90,000 characters cost the tier what short ones do: the key, not the text."""
    budget = 2**20
    tier = MemoryTier(10**9, budget)
    tier.use("v1")
    categories = ["comp.graphics", "sci.space"]
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for i in range(tier.max_entries * 2):  # twice what fits: the oldest go
            text = f"{i} " + "emoji \U0001f600 " * 9_000  # ~90,000 characters, each unique
            tier.put_many("v1", {entry_key("v1", text): categories[i % 2]})
        del text
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(tier) == tier.max_entries
    assert after - before <= budget
    # the transient text of one put is all the peak adds (~370 KB of UTF-8 and str)
    assert peak - before <= budget + 2**20
