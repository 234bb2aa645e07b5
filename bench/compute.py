"""The compute floor: the model alone, in this process, with no server and no HTTP.

A batch of ``size`` fresh messages through ``pipeline.predict`` gives the documents/s that
``/predictions`` can at best approach; single-text ``predict`` calls give the latency a
one-text request can at best approach.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from bench import texts

BATCH_REPEATS = 15
SINGLE_CALLS = 300


@dataclass(frozen=True)
class ComputeFloor:
    """What the bare model does on this machine, now."""

    batch_size: int
    batch_seconds_median: float
    documents_per_s: float
    single_ms_median: float
    single_ms_p99: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def _median_batch_seconds(pipeline: Any, stream: Iterator[str], size: int, repeats: int) -> float:
    """The median time of ``pipeline.predict`` over ``repeats`` batches of ``size`` fresh
    messages from ``stream``, after one warm-up batch that is not counted."""
    pipeline.predict([next(stream) for _ in range(size)])  # warm-up
    durations = []
    for _ in range(repeats):
        batch = [next(stream) for _ in range(size)]
        start = time.perf_counter()
        pipeline.predict(batch)
        durations.append(time.perf_counter() - start)
    return statistics.median(durations)


def batch_rate(pipeline: Any, batch_size: int, nonce: str, repeats: int = BATCH_REPEATS) -> float:
    """Documents/s of ``pipeline.predict`` over batches of fresh messages (median batch):
    measured again beside each ``/predictions`` run, since this machine's speed drifts from
    minute to minute."""
    stream = texts.messages(nonce, stream=1)
    return batch_size / _median_batch_seconds(pipeline, stream, batch_size, repeats)


def measure(pipeline: Any, batch_size: int, nonce: str) -> ComputeFloor:
    """Median over :data:`BATCH_REPEATS` batches and :data:`SINGLE_CALLS` single calls.

    Every batch gets new texts (the model caches nothing, but this keeps it the same
    workload as the unique-text load) and the first, possibly slower, call is not counted.
    """
    stream = texts.messages(nonce, stream=0)
    batch_median = _median_batch_seconds(pipeline, stream, batch_size, BATCH_REPEATS)
    singles = []
    for _ in range(SINGLE_CALLS):
        text = next(stream)
        start = time.perf_counter()
        pipeline.predict([text])
        singles.append((time.perf_counter() - start) * 1e3)
    singles.sort()
    return ComputeFloor(
        batch_size=batch_size,
        batch_seconds_median=batch_median,
        documents_per_s=batch_size / batch_median,
        single_ms_median=statistics.median(singles),
        single_ms_p99=singles[min(len(singles) - 1, int(len(singles) * 0.99))],
    )
