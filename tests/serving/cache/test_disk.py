"""The disk tier: round trip, size limit, entries that never hold the text."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from newsapi.serving.cache.disk import ENTRY_DISK_BYTES, DiskTier
from newsapi.serving.cache.keys import entry_key, entry_keys
from newsapi.serving.metrics import Metrics
from tests.support import disk_usage, folder_bytes, metric


def entries(folder: Path) -> list[Path]:
    return list(folder.rglob("output.pkl"))


def test_keys_are_blake2b_of_the_text_keyed_by_the_model_version() -> None:
    """The definition the disk tier's existing entries rely on, for every way to compute it."""
    texts = ["rocket orbit", "", "caf\u00e9 \U0001f680", "lone \ud800 surrogate", "x" * 100_000]
    for version in ("f9da8b499c72", "v" * 80):  # versions longer than a BLAKE2b key too
        raw = version.encode()
        key = raw if len(raw) <= 64 else hashlib.blake2b(raw).digest()
        expected = [
            hashlib.blake2b(t.encode("utf-8", "surrogatepass"), digest_size=16, key=key).digest()
            for t in texts
        ]
        assert [entry_key(version, t) for t in texts] == expected
        assert entry_keys(version, texts) == expected
    assert entry_key("a", "text") != entry_key("b", "text")


def test_round_trip_and_size_limit(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    limit = 40 * ENTRY_DISK_BYTES
    disk = DiskTier(folder, limit, Metrics())
    rows = [(entry_key("v1", f"text number {i}"), "space") for i in range(300)]
    assert disk.put_many(rows)
    keys = [entry_key("v1", "text number 7"), entry_key("v1", "never seen")]
    assert disk.get_many(keys) == ["space", None]
    assert disk.get_many([entry_key("v2", "text number 7")]) == [None]  # another model
    assert disk_usage(folder) > limit
    disk.reduce()
    disk.close()
    assert len(entries(folder)) == 40
    # the byte limit holds for what du counts, and so for the files' sizes
    # + the folders above the entries (the one that lists them grows with them)
    assert disk_usage(folder) <= limit + 16 * 4096
    assert folder_bytes(folder) <= limit


def test_an_entry_never_holds_its_text(tmp_path: Path) -> None:
    """An entry is its key (the folder's name) and its category: the text is nowhere."""
    folder = tmp_path / "cache"
    disk = DiskTier(folder, 2**20, Metrics())
    assert disk.put_many([(entry_key("v1", "first"), "space")])
    empty = disk_usage(folder)
    texts = [f"{i} unmistakable marker " + "word " * 18_000 for i in range(20)]  # ~90,000 chars
    assert disk.put_many([(entry_key("v1", text), "space") for text in texts])
    assert disk.get_many([entry_key("v1", texts[3])]) == ["space"]
    for path in folder.rglob("*"):
        if path.is_file():
            assert b"unmistakable" not in path.read_bytes(), path
    assert disk_usage(folder) - empty <= 20 * ENTRY_DISK_BYTES


def test_two_tiers_clearing_one_folder_at_once_report_no_fault(tmp_path: Path) -> None:
    """Two workers' disk tiers share one folder; when both clear it at once, each finds
    folders the other has just removed. A folder already gone is cleared, not a fault."""
    folder = tmp_path / "cache"
    metrics = [Metrics(), Metrics()]
    tiers = [DiskTier(folder, 2**30, m) for m in metrics]
    with ThreadPoolExecutor(2) as pool:
        for round_ in range(8):
            rows = [(entry_key("v1", f"text {round_} {i}"), "space") for i in range(400)]
            assert tiers[0].put_many(rows)
            list(pool.map(DiskTier.clear, tiers))
            assert entries(folder) == []
            assert tiers[1].put_many(rows[:1])  # the folder is usable again
    for m in metrics:
        assert metric(m.exposition()[0].decode(), "newsapi_cache_faults_total") == 0
