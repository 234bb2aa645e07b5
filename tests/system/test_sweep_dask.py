"""The search gives the same results on one process, on joblib's local processes and on a
real Dask cluster (a scheduler and two workers started here as separate processes), and the
Dask workers are the ones that fit."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

from newsapi.model.data import Corpus
from newsapi.training.sweep.search import run_search
from newsapi.training.sweep.spec import SweepSpec
from tests.support import SWEEP_GRID, DaskCluster, assert_same_results, overlapping_corpus


def executed_counts(address: str) -> dict[int, int]:
    """Tasks each worker of the cluster has executed, keyed by the worker's process id."""
    from distributed import Client

    def count(dask_worker: Any) -> tuple[int, int]:
        return os.getpid(), int(dask_worker.state.executed_count)

    with Client(address, timeout="30s") as client:  # type: ignore[no-untyped-call]
        return dict(client.run(count).values())


@pytest.mark.dask
def test_same_results_on_one_process_local_processes_and_a_dask_cluster(
    dask_cluster: DaskCluster,
) -> None:
    corpus = overlapping_corpus()
    spec = SweepSpec.build({"grid": SWEEP_GRID, "cv": 3, "n_jobs": 1})
    lines: list[str] = []
    sequential = run_search(spec, corpus, write=lines.append)
    scores = sequential.cv_results["mean_test_score"]
    assert len(scores) == 10
    assert np.ptp(scores) > 0.1, "the candidates must score differently"
    assert sequential.best_score == pytest.approx(scores.max())
    assert lines[0] == "10 candidates x 3 folds = 30 fits on joblib local processes " + (
        "(n_jobs=1: 1 at a time)"
    )
    assert lines[-1].startswith("candidates 10/10 (100%)")
    assert lines[-1].endswith("done")

    local = run_search(spec.model_copy(update={"n_jobs": 2}), corpus, write=None)
    assert local.workers == 2
    assert_same_results(sequential, local)

    before = executed_counts(dask_cluster.address)
    assert set(before) == dask_cluster.worker_pids  # the processes this test started
    remote = spec.model_copy(update={"dask_scheduler": dask_cluster.address})
    on_dask = run_search(remote, corpus, write=lines.append)
    assert on_dask.backend.startswith(f"the Dask cluster at {dask_cluster.address}")
    assert on_dask.workers == 2
    assert_same_results(sequential, on_dask)
    # progress is counted where the sweep runs, on Dask as on local processes
    assert sum(line.startswith("candidates 10/10 (100%)") for line in lines) == 2
    after = executed_counts(dask_cluster.address)
    done = {pid: after[pid] - before[pid] for pid in after}
    assert all(count > 0 for count in done.values()), f"a worker did no fit: {done}"
    assert os.getpid() not in done


@pytest.mark.dask
def test_a_local_dask_cluster_started_for_the_run_gives_the_same_results() -> None:
    corpus = overlapping_corpus()
    spec = SweepSpec.build({"grid": SWEEP_GRID[0], "cv": 3, "n_jobs": 1})
    sequential = run_search(spec, corpus, write=None)
    local = run_search(spec.model_copy(update={"dask_scheduler": "local", "n_jobs": 2}), corpus)
    assert local.backend.startswith("a local Dask cluster (2 single-threaded worker processes)")
    assert_same_results(sequential, local)


@pytest.mark.slow  # the same property on a corpus the test writes: a short test above
@pytest.mark.corpus
@pytest.mark.dask
def test_real_corpus_same_results_everywhere(dask_cluster: DaskCluster, newsgroups: Corpus) -> None:
    spec = SweepSpec.build(
        {"grid": {"classifier": ["multinomial_nb"], "alpha": [0.01, 0.3]}, "cv": 3, "n_jobs": 1}
    )
    sequential = run_search(spec, newsgroups, write=None)
    assert sequential.best_params.alpha == 0.01
    assert sequential.best_score > 0.9
    local = run_search(spec.model_copy(update={"n_jobs": 2}), newsgroups, write=None)
    remote = spec.model_copy(update={"dask_scheduler": dask_cluster.address})
    before = executed_counts(dask_cluster.address)
    on_dask = run_search(remote, newsgroups, write=None)
    after = executed_counts(dask_cluster.address)
    assert_same_results(sequential, local)
    assert_same_results(sequential, on_dask)
    assert sum(after.values()) > sum(before.values())
