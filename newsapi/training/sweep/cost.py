"""What a sweep will cost, said before it runs: its number of fits, and a rough time from one
fit timed first on the share of the training split that a fold trains on.

A grid may hold up to 5,000 candidates, each fitted once per fold (up to 20): a sweep of
100,000 fits that started without a word would only be noticed hours later. ``newsapi sweep``
prints this line first, and asks for ``--yes`` past a number of fits.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from newsapi.errors import NewsapiError

if TYPE_CHECKING:  # the command line reads the threshold without importing scikit-learn
    from newsapi.training.sweep.spec import SweepSpec

#: the fits a sweep runs without being asked to (``newsapi sweep --max-fits``)
CONFIRM_ABOVE_FITS = 2000


@dataclass(frozen=True)
class SweepCost:
    """The fits of a sweep, and what one of them took (None: not timed, see ``why_not``)."""

    spec: SweepSpec
    first_fit: float | None
    workers: int | None  #: fits at a time (None: a Dask cluster's, known once it runs)
    why_not: str = ""

    @property
    def fits(self) -> int:
        return self.spec.n_fits

    def rough_time(self) -> str | None:
        """'roughly 3 min on 2 parallel processes', or None when no fit was timed."""
        if self.first_fit is None:
            return None
        if self.workers is None:
            total = self.first_fit * (self.fits + 1)
            return f"roughly {_duration(total)} on one process, divided by the cluster's threads"
        total = self.first_fit * (math.ceil(self.fits / self.workers) + 1)
        return f"roughly {_duration(total)} on {self.workers} parallel process(es)"

    def describe(self) -> str:
        """One line: the fits, and the rough time when a fit was timed."""
        spec = self.spec
        line = (
            f"sweep: {self.fits:,} fits ({spec.n_candidates:,} candidates x {spec.cv} folds) "
            "and a refit of the winner"
        )
        rough = self.rough_time()
        if rough is None:
            return f"{line}; not timed ({self.why_not})" if self.why_not else line
        return f"{line}; one fit took {self.first_fit:.2f} s here, so {rough}"


def estimate(spec: SweepSpec, data_home: str | os.PathLike[str] | None = None) -> SweepCost:
    """Load the sweep's corpus and time the grid's first candidate on one fold's share of the
    training split. A corpus that cannot be loaded is not an error here (the sweep itself
    reports it): the cost then has no time, and says why."""
    from sklearn.model_selection import ParameterGrid

    from newsapi.training.pipeline import build_pipeline
    from newsapi.training.run import corpus_for

    workers = _workers(spec)
    try:
        corpus = corpus_for(spec.base, data_home)
    except (NewsapiError, OSError, ValueError) as exc:
        return SweepCost(spec, None, workers, why_not=f"the corpus did not load: {exc}")
    # built before the clock starts: the first use of a classifier imports its module
    pipeline = build_pipeline(spec.base.replace(**next(iter(ParameterGrid(spec.grid)))))
    share = len(corpus.train_texts) * (spec.cv - 1) // spec.cv
    started = time.perf_counter()
    pipeline.fit(corpus.train_texts[:share], corpus.train_labels[:share])
    return SweepCost(spec, time.perf_counter() - started, workers)


def _workers(spec: SweepSpec) -> int | None:
    import joblib

    if spec.dask_scheduler is None:
        parallel: int = joblib.effective_n_jobs(spec.n_jobs)
        return max(1, min(parallel, spec.n_fits))
    if spec.dask_scheduler == "local":
        return spec.n_jobs if spec.n_jobs > 0 else os.cpu_count() or 1
    return None


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"
