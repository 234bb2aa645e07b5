"""The disk tier: round trip, size limit, entries that never hold the text."""

from __future__ import annotations

from pathlib import Path

from newsapi.cache.disk import ENTRY_DISK_BYTES, DiskTier
from newsapi.cache.keys import entry_key
from newsapi.metrics import Metrics
from tests.conftest import folder_bytes


def entries(folder: Path) -> list[Path]:
    return list(folder.rglob("output.pkl"))


def test_round_trip_and_size_limit(tmp_path: Path) -> None:
    disk = DiskTier(tmp_path / "cache", 40_000, Metrics())
    rows = [(entry_key("v1", f"text number {i}"), "space") for i in range(300)]
    assert disk.put_many(rows)
    keys = [entry_key("v1", "text number 7"), entry_key("v1", "never seen")]
    assert disk.get_many(keys) == ["space", None]
    assert disk.get_many([entry_key("v2", "text number 7")]) == [None]  # another model
    assert folder_bytes(tmp_path / "cache") > 40_000
    disk.reduce()
    disk.close()
    # joblib keeps the function's code file beside the entries
    assert folder_bytes(tmp_path / "cache") <= 40_000 + 4_096
    assert 0 < len(entries(tmp_path / "cache")) < 300


def test_an_entry_never_holds_its_text(tmp_path: Path) -> None:
    """joblib writes a call's arguments into metadata.json: they are the key's hex digits."""
    folder = tmp_path / "cache"
    disk = DiskTier(folder, 2**20, Metrics())
    empty = folder_bytes(folder)
    texts = [f"{i} unmistakable marker " + "word " * 18_000 for i in range(20)]  # ~90,000 chars
    assert disk.put_many([(entry_key("v1", text), "space") for text in texts])
    assert disk.get_many([entry_key("v1", texts[3])]) == ["space"]
    for path in folder.rglob("*"):
        if path.is_file():
            assert b"unmistakable" not in path.read_bytes(), path
    assert folder_bytes(folder) - empty <= 20 * ENTRY_DISK_BYTES
