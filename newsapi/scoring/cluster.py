"""The same pieces on a Dask cluster: a bag with one partition per piece, scored with
``map_partitions`` by the streaming loop of :mod:`.local`, each partition writing its own part
files (as ``to_parquet`` writes one file per partition) into the staging folder, which the
workers must see at the same path (one machine, or a shared file system, as for the input).

While a run lasts, the workers' statistical profiler is paused (:func:`set_profiler`). The
model reaches each worker once: its bytes are broadcast to every worker once per run
(``Client.scatter``), and each worker process keeps the unpickled model in a cache keyed by
its sha256, hashing the bytes it received before it unpickles them. A worker that already
holds the model (an earlier run on the same cluster) loads nothing. ``--dask-scheduler local``
starts a LocalCluster of single-threaded worker processes for the run; an address connects to
a running ``dask scheduler``, as ``newsapi sweep`` does.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import sklearn

from newsapi.errors import NewsapiError
from newsapi.model.artifact import ArtifactError, ChecksumMismatchError, sha256_bytes
from newsapi.scoring.batches import Scorer
from newsapi.scoring.local import OnProgress, PieceResult, first_rows, score_piece
from newsapi.scoring.readers import count_rows
from newsapi.scoring.sinks import Parts
from newsapi.scoring.sources import Piece, Plan
from newsapi.serving.predictor import prepare

#: the worker process's models, by sha256: a worker keeps the last two it was sent
_models: dict[str, tuple[Any, list[str]]] = {}
_loads: dict[str, int] = {}
_lock = threading.Lock()
KEEP = 2

#: the LocalCluster of ``--dask-scheduler local``: its workers never start the profiler (see
#: :func:`set_profiler`), and their nannies spawn them without ``MALLOC_TRIM_THRESHOLD_``,
#: which Dask sets by default: glibc then also fixes its mmap threshold, so every large NumPy
#: buffer of the model's arithmetic is mapped and faulted in anew at each batch (several times
#: the page faults of one process, and its system time; the docs' scoring page)
LOCAL_CONFIG: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
}


@dataclass(frozen=True)
class ModelRef:
    """What a task carries of the model: its sha256, the scikit-learn version that wrote it,
    and the scattered bytes (resolved by Dask to the worker's own copy)."""

    sha256: str
    sklearn_version: str
    target_names: tuple[str, ...]


def worker_model(ref: ModelRef, payload: bytes) -> tuple[Any, list[str]]:
    """This worker process's copy of the model: unpickled at the first task that needs it,
    after its bytes are checked against the sha256, then reused by every later task."""
    with _lock:
        cached = _models.get(ref.sha256)
        if cached is not None:
            return cached
        if sha256_bytes(payload) != ref.sha256:
            raise ChecksumMismatchError(
                f"the model bytes this Dask worker received do not match sha256 "
                f"{ref.sha256[:12]}; refusing to unpickle them"
            )
        if ref.sklearn_version.split(".")[:2] != sklearn.__version__.split(".")[:2]:
            raise ArtifactError(
                f"this Dask worker has scikit-learn {sklearn.__version__}, the model was written "
                f"by {ref.sklearn_version}; give the workers the project's environment"
            )
        import joblib

        pipeline, names = joblib.load(io.BytesIO(payload))
        predictor = prepare(pipeline)  # as a server prepares it: the same path, the same answers
        while len(_models) >= KEEP:
            _models.pop(next(iter(_models)))
        _models[ref.sha256] = (predictor, [str(name) for name in names])
        _loads[ref.sha256] = _loads.get(ref.sha256, 0) + 1
        return _models[ref.sha256]


def model_loads() -> dict[str, Any]:
    """This worker process's id and how many times it unpickled each model (by sha256)."""
    with _lock:
        return {"pid": os.getpid(), "loads": dict(_loads)}


def _score_partition(
    items: list[tuple[Piece, int]],
    plan: Plan,
    ref: ModelRef,
    payload: bytes,
    scorer: Scorer,
    parts: Parts,
) -> list[PieceResult]:
    predictor, names = worker_model(ref, payload)
    scorer = Scorer(predictor, names, scorer.schema, scorer.scores, scorer.strict)
    return [score_piece(plan, piece, scorer, parts, first_row) for piece, first_row in items]


def _count_partition(pieces: list[Piece], plan: Plan) -> list[tuple[int, int]]:
    return [(piece.index, count_rows(plan, piece)) for piece in pieces]


class ClusterError(NewsapiError):
    """The Dask cluster cannot be used; the message says how to start one."""


@contextlib.contextmanager
def connect(scheduler: str, workers: int | None) -> Iterator[Any]:
    """A client of the cluster at ``scheduler``, or of a LocalCluster started for the run."""
    from distributed import Client, LocalCluster

    with contextlib.ExitStack() as stack:
        if scheduler == "local":
            import dask

            count = workers or os.cpu_count() or 1
            with dask.config.set(LOCAL_CONFIG):
                cluster = stack.enter_context(
                    LocalCluster(  # type: ignore[no-untyped-call]
                        n_workers=count,
                        threads_per_worker=1,
                        processes=True,
                        host="127.0.0.1",  # a private cluster: nothing listens beyond here
                        dashboard_address=None,
                        silence_logs=logging.ERROR,
                    )
                )
            client = stack.enter_context(Client(cluster))  # type: ignore[no-untyped-call]
        else:
            try:
                client = stack.enter_context(
                    Client(scheduler, timeout="20s")  # type: ignore[no-untyped-call]
                )
            except OSError as exc:
                raise ClusterError(
                    f"cannot reach the Dask scheduler at {scheduler} ({exc}); start one with "
                    "`dask scheduler` or use --dask-scheduler local"
                ) from None
        if not client.nthreads():
            raise ClusterError(
                f"the Dask cluster at {scheduler} has no workers; start some with "
                "`dask worker ADDRESS`"
            )
        client.run(set_profiler, False)
        try:
            yield client
        finally:
            with contextlib.suppress(Exception):  # a worker gone meanwhile has nothing to restart
                client.run(set_profiler, True)


def set_profiler(on: bool, dask_worker: Any = None) -> None:
    """Stop or restart a worker's statistical profiler, which samples every thread's stack
    every 10 ms holding the GIL: the tokenizer is pure Python, and a worker scored far slower
    than one process with it on, as fast without (the docs' scoring page). Run on each
    worker's event loop (``Client.run``)."""
    callback = getattr(dask_worker, "periodic_callbacks", {}).get("profile")
    if callback is not None:
        if on:
            callback.start()
        else:
            callback.stop()


def run_on_dask(
    client: Any,
    plan: Plan,
    scorer: Scorer,
    parts: Parts,
    payload: bytes,
    ref: ModelRef,
    on_progress: OnProgress | None = None,
) -> list[PieceResult]:
    """Every piece as one partition of a Dask bag, scored with ``map_partitions`` on the
    cluster of ``client`` (see :func:`connect`); the results in piece order."""
    import dask.bag as db
    from distributed import as_completed

    report = on_progress or (lambda rows, size: None)
    results: dict[int, PieceResult] = {}
    first = first_rows(plan, parts, partial(_count_on, client, plan))
    todo = []
    for piece in plan.pieces:
        finished = parts.finished_piece(piece.index)
        if finished is None:
            todo.append((piece, first[piece.index]))
            continue
        results[piece.index] = PieceResult(
            piece.index, finished.rows, finished.unread, finished.rows
        )
        report(finished.rows, piece.size)
    if todo:
        # hash=False: a key of its own rather than Dask hashing the model's megabytes in this
        # process while the workers wait (the workers check the sha256 themselves)
        shared = client.scatter(payload, broadcast=True, hash=False)
        bare = Scorer(None, scorer.target_names, scorer.schema, scorer.scores, scorer.strict)
        bag = db.from_sequence(todo, npartitions=len(todo))  # type: ignore[no-untyped-call]
        scored = bag.map_partitions(_score_partition, plan, ref, shared, bare, parts)
        futures = client.compute(scored.to_delayed())
        sizes = {piece.index: piece.size for piece in plan.pieces}
        try:
            for future in as_completed(futures):  # type: ignore[no-untyped-call]
                for result in future.result():
                    results[result.index] = result
                    report(result.rows, sizes[result.index])
        finally:
            client.cancel(futures)
    return [results[piece.index] for piece in plan.pieces]


def _count_on(client: Any, plan: Plan, pieces: list[Piece]) -> dict[int, int]:
    """The rows of ``pieces``, counted on the workers."""
    import dask.bag as db

    bag = db.from_sequence(pieces, npartitions=len(pieces))  # type: ignore[no-untyped-call]
    return dict(client.compute(bag.map_partitions(_count_partition, plan)).result())
