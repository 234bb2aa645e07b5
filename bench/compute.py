"""The compute floor: the model alone, in this process, with no server and no HTTP.

A batch of ``size`` fresh messages through ``pipeline.predict`` gives the documents/s that
``/predictions`` can at best approach; single-text ``predict`` calls give the latency a
one-text request can at best approach. The service computes through the lean path
(:mod:`newsapi.serving.lean`) when the model compiles: its single-text and batch figures are
measured beside scikit-learn's, on the same texts.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from bench import texts

BATCH_REPEATS = 15
SINGLE_CALLS = 300

Predict = Callable[[list[str]], Any]


@dataclass(frozen=True)
class ComputeFloor:
    """What the bare model does on this machine, now."""

    batch_size: int
    batch_seconds_median: float
    documents_per_s: float
    single_ms_median: float
    single_ms_p99: float
    #: the service's path for this model: "lean" or "scikit-learn"
    inference: str = "scikit-learn"
    lean_single_ms_median: float | None = None
    lean_single_ms_p99: float | None = None
    lean_documents_per_s: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def _median_batch_seconds(
    predict: Predict, stream: Iterator[str], size: int, repeats: int
) -> float:
    """The median time of ``predict`` over ``repeats`` batches of ``size`` fresh messages
    from ``stream``, after one warm-up batch that is not counted."""
    predict([next(stream) for _ in range(size)])  # warm-up
    durations = []
    for _ in range(repeats):
        batch = [next(stream) for _ in range(size)]
        start = time.perf_counter()
        predict(batch)
        durations.append(time.perf_counter() - start)
    return statistics.median(durations)


def batch_rate(pipeline: Any, batch_size: int, nonce: str, repeats: int = BATCH_REPEATS) -> float:
    """Documents/s of ``pipeline.predict`` over batches of fresh messages (median batch):
    measured again beside each ``/predictions`` run, since this machine's speed drifts from
    minute to minute."""
    stream = texts.messages(nonce, stream=1)
    return batch_size / _median_batch_seconds(pipeline.predict, stream, batch_size, repeats)


def _median_p99(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def measure(pipeline: Any, batch_size: int, nonce: str, lean: Any = None) -> ComputeFloor:
    """Median over :data:`BATCH_REPEATS` batches and :data:`SINGLE_CALLS` single calls, for
    scikit-learn's ``predict`` and, given the compiled ``lean`` model, for the lean path.

    Every batch gets new texts (the model caches nothing, but this keeps it the same
    workload as the unique-text load) and the first, possibly slower, call is not counted.
    Single calls alternate between the two paths, text by text, so that the machine's drift
    touches both alike.
    """
    stream = texts.messages(nonce, stream=0)
    batch_median = _median_batch_seconds(pipeline.predict, stream, batch_size, BATCH_REPEATS)
    lean_batch = None
    if lean is not None:
        lean_batch = _median_batch_seconds(lean.labels, stream, batch_size, BATCH_REPEATS)
    singles: list[float] = []
    lean_singles: list[float] = []
    for _ in range(SINGLE_CALLS):
        text = next(stream)
        start = time.perf_counter()
        pipeline.predict([text])
        singles.append((time.perf_counter() - start) * 1e3)
        if lean is not None:
            start = time.perf_counter()
            lean.labels([text])
            lean_singles.append((time.perf_counter() - start) * 1e3)
    single_median, single_p99 = _median_p99(singles)
    lean_median, lean_p99 = _median_p99(lean_singles) if lean_singles else (None, None)
    return ComputeFloor(
        batch_size=batch_size,
        batch_seconds_median=batch_median,
        documents_per_s=batch_size / batch_median,
        single_ms_median=single_median,
        single_ms_p99=single_p99,
        inference="scikit-learn" if lean is None else "lean",
        lean_single_ms_median=lean_median,
        lean_single_ms_p99=lean_p99,
        lean_documents_per_s=None if lean_batch is None else batch_size / lean_batch,
    )
