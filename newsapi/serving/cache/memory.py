"""The memory tier: an in-process LRU of answers, bounded in bytes."""

from __future__ import annotations

from collections import OrderedDict

# What one entry costs: a 16-byte ``bytes`` key (49 bytes, 64 with the allocator's rounding)
# and its slot in the OrderedDict (hash table, index and order links); the value is one of
# the model's category strings, shared by every entry. Measured with tracemalloc at 123-160
# bytes per entry (the most just after the table grows); tests/serving/cache/test_memory.py
# checks this bound.
ENTRY_BYTES = 192


class MemoryTier:
    """A least-recently-used mapping ``entry key -> category`` (see :mod:`.keys`).

    It holds the answers of one model version, the one serving (:meth:`use`); answers of any
    other version are neither kept nor given. Entries are fixed-size, so the bound in bytes
    is a bound in entries: ``min(max_entries, max_bytes // ENTRY_BYTES)``.
    """

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max(0, min(max_entries, max_bytes // ENTRY_BYTES))
        self.version = ""
        self._data: OrderedDict[bytes, str] = OrderedDict()

    @property
    def max_bytes(self) -> int:
        """The most this tier holds, in bytes."""
        return self.max_entries * ENTRY_BYTES

    def get(self, version: str, key: bytes) -> str | None:
        """The category stored under ``key``, made most recent; None when absent."""
        if version != self.version:
            return None
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def get_many(self, version: str, keys: list[bytes]) -> list[str | None]:
        """:meth:`get` for many keys at C speed (``map``), the hits made most recent."""
        if version != self.version:
            return [None] * len(keys)
        found = list(map(self._data.get, keys))
        move = self._data.move_to_end
        for key, value in zip(keys, found, strict=True):
            if value is not None:
                move(key)
        return found

    def put_many(self, version: str, entries: dict[bytes, str]) -> None:
        """Remember ``{key: category}`` answers of ``version`` (ignored for another
        version: e.g. a batch that finished after a reload, whose model is gone)."""
        if self.max_entries == 0 or version != self.version:
            return
        self._data.update(entries)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def use(self, version: str) -> None:
        """Serve ``version`` from now on, forgetting the answers of the previous one."""
        if version != self.version:
            self.version = version
            self._data = OrderedDict()

    def clear(self) -> None:
        """Forget every answer."""
        self._data = OrderedDict()

    def __len__(self) -> int:
        return len(self._data)
