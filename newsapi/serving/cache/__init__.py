"""The prediction cache: a byte-bounded in-process LRU in front of a shared ``joblib.Memory``.

Every tier is keyed by a 16-byte digest of ``(model_version, text)`` (:mod:`.keys`), so a
retrained model never meets an old answer and an entry costs the same few bytes whatever the
text's length. The modules, one concern each:

- :mod:`.memory`: the memory tier (event loop only), bounded in bytes;
- :mod:`.disk`: the disk tier, shared by every worker, survives restarts;
- :mod:`.writer`: the thread that fills the disk tier behind the responses and trims it;
- :mod:`.signals`: how a clear in one worker reaches the others' memory tiers;
- :mod:`.faults`: disk faults counted always, logged once per kind.
"""

from __future__ import annotations

from collections.abc import Callable

from newsapi.serving.cache.disk import DiskTier, Entry
from newsapi.serving.cache.faults import silence_joblib_cache_warnings
from newsapi.serving.cache.keys import entry_key, entry_keys
from newsapi.serving.cache.memory import MemoryTier
from newsapi.serving.cache.signals import ClearSignal
from newsapi.serving.cache.writer import DiskWriter
from newsapi.serving.metrics import Metrics
from newsapi.settings import CacheSettings

__all__ = ["DiskTier", "DiskWriter", "Entry", "MemoryTier", "PredictionCache", "entry_key",
           "entry_keys"]  # fmt: skip


class PredictionCache:
    """The two tiers, the writer that fills the disk tier, and the clear signal."""

    def __init__(self, settings: CacheSettings, metrics: Metrics) -> None:
        silence_joblib_cache_warnings()
        self.memory = MemoryTier(settings.memory_cache_size, settings.memory_cache_bytes)
        self.disk = DiskTier(settings.cache_dir, settings.cache_bytes_limit, metrics)
        self.signal = ClearSignal(settings.cache_dir)
        self.writer = DiskWriter(
            self.disk,
            self.signal,
            metrics,
            write_budget=settings.cache_write_budget,
            queue_bytes=settings.cache_write_queue_bytes,
            reduce_interval=settings.cache_reduce_interval,
        )

    def start(
        self,
        on_foreign_clear: Callable[[], None] | None = None,
        quiet: Callable[[], float] | None = None,
        quiet_seconds: float = 0.0,
    ) -> None:
        """Start the writer; ``on_foreign_clear`` is called (from the writer thread) when
        another worker clears the disk tier, so that this worker drops its memory tier too;
        ``quiet()``: seconds the worker has had no request in flight (the writer waits until
        it says ``quiet_seconds``)."""
        self.writer.start(on_foreign_clear, quiet, quiet_seconds)

    def stop(self) -> None:
        """Stop the writer (entries still waiting are dropped and counted) and the trimmer."""
        self.writer.stop()
        self.disk.close()

    def write_behind(self, entries: list[Entry]) -> None:
        """Queue new answers for the disk tier without waiting (event loop)."""
        self.writer.submit(entries)

    def clear_disk(self) -> None:
        """Empty the disk tier and the writes waiting for it, and tell the other workers
        (blocking: call from a thread). The memory tier belongs to the event loop; the
        caller clears it there."""
        self.writer.drop_waiting()
        self.disk.clear()
        try:
            self.signal.announce()
        except OSError as exc:
            self.disk.faults.report("clear", "%r", exc)
