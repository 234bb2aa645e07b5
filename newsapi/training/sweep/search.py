"""The cross-validated search of a sweep, on joblib's local processes or on a Dask cluster.

scikit-learn's ``GridSearchCV`` / ``RandomizedSearchCV`` do the work, with stratified folds of
the training split; their fits run through joblib, and through ``dask.distributed`` when a
scheduler is given (``joblib.parallel_config(backend="dask")``, the libraries' own route).
Each candidate is a :class:`SweepEstimator`: the training parameters' names and validation,
and :func:`newsapi.training.pipeline.build_pipeline`, exactly what ``01_train.ipynb`` fits.

Progress is counted in the calling process: the candidates are handed to the search in
chunks (scikit-learn's documented ``_run_search`` hook, as successive halving does), and a
line with candidates done / total and an estimate of the time left is printed after each.
Worker processes, local or on other machines, need no channel back.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import joblib
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import (
    GridSearchCV,
    ParameterGrid,
    ParameterSampler,
    RandomizedSearchCV,
    StratifiedKFold,
)

from newsapi.model.data import Corpus
from newsapi.model.params import DEFAULTS, TrainingParameters
from newsapi.training.pipeline import build_pipeline
from newsapi.training.sweep.spec import SweepSpec

_D = DEFAULTS


class SweepEstimator(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """One candidate of a sweep: the pipeline that ``build_pipeline`` makes of these training
    parameters (same names, same validation), as a scikit-learn estimator to search over."""

    def __init__(
        self,
        classifier: str = _D.classifier,
        alpha: float = _D.alpha,
        C: float = _D.C,
        ngram_max: int = _D.ngram_max,
        min_df: int | float = _D.min_df,
        max_df: int | float = _D.max_df,
        sublinear_tf: bool = _D.sublinear_tf,
        max_features: int | None = _D.max_features,
        random_state: int = _D.random_state,
        calibrate: bool = _D.calibrate,
    ) -> None:
        self.classifier = classifier
        self.alpha = alpha
        self.C = C
        self.ngram_max = ngram_max
        self.min_df = min_df
        self.max_df = max_df
        self.sublinear_tf = sublinear_tf
        self.max_features = max_features
        self.random_state = random_state
        self.calibrate = calibrate

    def training_parameters(self) -> TrainingParameters:
        """These model parameters as the validated parameter object (default data fields)."""
        return TrainingParameters.build(self.get_params())

    def fit(self, texts: Sequence[str], labels: Sequence[int]) -> SweepEstimator:
        """Fit the pipeline of these parameters."""
        self.pipeline_ = build_pipeline(self.training_parameters()).fit(texts, labels)
        self.classes_ = self.pipeline_.classes_
        return self

    def predict(self, texts: Sequence[str]) -> Any:
        """The fitted pipeline's predictions."""
        return self.pipeline_.predict(texts)


class Progress:
    """Candidates done / total, time elapsed and an estimate of the time left, one line each."""

    def __init__(self, total: int, write: Callable[[str], None] = print) -> None:
        self.total = total
        self.write = write
        self.started = time.perf_counter()

    def __call__(self, done: int) -> None:
        elapsed = time.perf_counter() - self.started
        left = elapsed / done * (self.total - done) if done else math.nan
        estimate = "done" if done >= self.total else f"about {_duration(left)} left"
        self.write(
            f"candidates {done}/{self.total} ({done / self.total:.0%}), "
            f"{_duration(elapsed)} elapsed, {estimate}"
        )


class _ChunkedSearch:
    """Evaluate the candidates in chunks, reporting after each (same results as at once)."""

    chunk_size: int = 1
    reporter: Callable[[int], None] | None = None

    def _candidates(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _run_search(self, evaluate_candidates: Callable[..., Any]) -> None:
        candidates = self._candidates()
        for start in range(0, len(candidates), self.chunk_size):
            evaluate_candidates(candidates[start : start + self.chunk_size])
            if self.reporter is not None:
                self.reporter(min(start + self.chunk_size, len(candidates)))


class SweepGridSearchCV(_ChunkedSearch, GridSearchCV):  # type: ignore[misc]
    """``GridSearchCV`` that reports its progress."""

    def _candidates(self) -> list[dict[str, Any]]:
        return list(ParameterGrid(self.param_grid))


class SweepRandomizedSearchCV(_ChunkedSearch, RandomizedSearchCV):  # type: ignore[misc]
    """``RandomizedSearchCV`` (lists only: drawn without replacement) that reports progress."""

    def _candidates(self) -> list[dict[str, Any]]:
        return list(
            ParameterSampler(self.param_distributions, self.n_iter, random_state=self.random_state)
        )


def build_search(spec: SweepSpec) -> SweepGridSearchCV | SweepRandomizedSearchCV:
    """The search of ``spec``: its grid over :class:`SweepEstimator`, stratified shuffled
    folds seeded by ``random_state``; the refit on the whole split is left to the store's
    code path (:func:`newsapi.training.run.train_and_store`)."""
    estimator = SweepEstimator(random_state=spec.base.random_state)
    folds = StratifiedKFold(n_splits=spec.cv, shuffle=True, random_state=spec.base.random_state)
    common: dict[str, Any] = {
        "scoring": spec.scoring,
        "cv": folds,
        "n_jobs": -1 if spec.dask_scheduler else spec.n_jobs,
        "refit": False,
        "error_score": "raise",
    }
    if spec.search == "grid":
        return SweepGridSearchCV(estimator, spec.grid, **common)
    return SweepRandomizedSearchCV(
        estimator,
        spec.grid,
        n_iter=spec.n_candidates,
        random_state=spec.base.random_state,
        **common,
    )


@dataclass(frozen=True)
class SweepOutcome:
    """What a search found, and where and how long it ran."""

    cv_results: dict[str, Any]
    best_index: int
    best_params: TrainingParameters
    best_score: float
    best_std: float
    elapsed: float
    backend: str
    workers: int


def run_search(
    spec: SweepSpec, corpus: Corpus, *, write: Callable[[str], None] | None = print
) -> SweepOutcome:
    """Cross-validate every candidate of ``spec`` on ``corpus``'s training split only."""
    search = build_search(spec)
    with parallel_backend(spec, corpus) as (backend, workers):
        started = time.perf_counter()  # the search only: a Dask cluster's start is not in it
        search.chunk_size = max(2 * workers, math.ceil(spec.n_candidates / 10))
        search.reporter = Progress(spec.n_candidates, write) if write else None
        if write:
            write(
                f"{spec.n_candidates} candidates x {spec.cv} folds = "
                f"{spec.n_candidates * spec.cv} fits on {backend}"
            )
        search.fit(corpus.train_texts, corpus.train_labels)
        elapsed = time.perf_counter() - started
    results = search.cv_results_
    best = int(results["rank_test_score"].argmin())
    return SweepOutcome(
        cv_results=results,
        best_index=best,
        best_params=spec.base.replace(**results["params"][best]),
        best_score=float(results["mean_test_score"][best]),
        best_std=float(results["std_test_score"][best]),
        elapsed=elapsed,
        backend=backend,
        workers=workers,
    )


@contextlib.contextmanager
def parallel_backend(spec: SweepSpec, corpus: Corpus) -> Iterator[tuple[str, int]]:
    """Where the fits run, as (description, number of parallel workers).

    None: joblib's default backend (local processes) with ``n_jobs``; "local": a
    ``dask.distributed`` LocalCluster of single-threaded worker processes (``n_jobs`` of
    them, -1: one per core) started for the run; an address: an existing Dask cluster.
    On Dask, the training split is broadcast to every worker once (joblib's ``scatter``):
    left to joblib's automatic scattering it lands on one worker, and the scheduler's
    preference for data locality then piles the fits onto that worker.
    """
    if spec.dask_scheduler is None:
        workers = joblib.effective_n_jobs(spec.n_jobs)
        yield f"joblib local processes (n_jobs={spec.n_jobs}: {workers} at a time)", workers
        return
    from distributed import Client, LocalCluster

    with contextlib.ExitStack() as stack:
        if spec.dask_scheduler == "local":
            count = spec.n_jobs if spec.n_jobs > 0 else os.cpu_count() or 1
            cluster = stack.enter_context(
                LocalCluster(  # type: ignore[no-untyped-call]
                    n_workers=count,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",  # a private cluster: nothing listens beyond this machine
                    dashboard_address="127.0.0.1:0",  # its status server, on a free port
                    silence_logs=logging.ERROR,
                )
            )
            client = stack.enter_context(Client(cluster))  # type: ignore[no-untyped-call]
            where = f"a local Dask cluster ({count} single-threaded worker processes)"
        else:
            client = stack.enter_context(
                Client(spec.dask_scheduler, timeout="20s")  # type: ignore[no-untyped-call]
            )
            where = f"the Dask cluster at {spec.dask_scheduler}"
        threads = sum(client.nthreads().values())
        if threads == 0:
            raise RuntimeError(f"{where} has no workers; start some with `dask worker ADDRESS`")
        training = [corpus.train_texts, corpus.train_labels]
        stack.enter_context(joblib.parallel_config(backend="dask", scatter=training))
        yield f"{where}, {threads} worker threads", threads


def _duration(seconds: float) -> str:
    if math.isnan(seconds):
        return "?"
    seconds = round(seconds)
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"
