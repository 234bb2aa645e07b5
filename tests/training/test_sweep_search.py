"""The search in one process: a random search is reproducible, a candidate is the training
pipeline of its parameters, progress is counted, and a worker needs the project to rebuild a
candidate (the Dask runs are in tests/system/test_sweep_dask.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from newsapi.model.params import TrainingParameters
from newsapi.training.pipeline import build_pipeline
from newsapi.training.sweep.search import Progress, SweepEstimator, run_search
from newsapi.training.sweep.spec import SweepSpec
from tests.support import (
    SWEEP_GRID,
    assert_same_results,
    overlapping_corpus,
    overlapping_sentences,
)


def test_a_random_search_draws_n_iter_candidates_reproducibly() -> None:
    corpus = overlapping_corpus()
    values = {"grid": SWEEP_GRID, "search": "random", "n_iter": 4, "n_jobs": 1, "random_state": 3}
    first = run_search(SweepSpec.build(values), corpus, write=None)
    again = run_search(SweepSpec.build(values), corpus, write=None)
    assert len(first.cv_results["params"]) == 4
    assert_same_results(first, again)


def test_a_candidate_is_the_training_pipeline_of_its_parameters() -> None:
    corpus = overlapping_corpus()
    params = TrainingParameters.build({"classifier": "linear_svc", "C": 0.5, "sublinear_tf": True})
    candidate = SweepEstimator(**params.model_parameters())
    candidate.fit(corpus.train_texts, corpus.train_labels)
    direct = build_pipeline(params).fit(corpus.train_texts, corpus.train_labels)
    assert repr(candidate.pipeline_) == repr(direct)
    texts = [text for text, _ in overlapping_sentences(10, seed=1)]
    np.testing.assert_array_equal(candidate.predict(texts), direct.predict(texts))
    np.testing.assert_allclose(
        candidate.pipeline_.decision_function(texts), direct.decision_function(texts)
    )


def test_progress_counts_candidates_and_estimates_the_time_left() -> None:
    lines: list[str] = []
    progress = Progress(8, lines.append)
    progress(2)
    progress(8)
    assert lines[0].startswith("candidates 2/8 (25%), ")
    assert "left" in lines[0]
    assert lines[1].startswith("candidates 8/8 (100%), ")
    assert lines[1].endswith("done")


def test_workers_need_the_project_importable(tmp_path: Path) -> None:
    """What the README tells cluster users: a candidate travels pickled by reference to
    newsapi.training.sweep.search, so a worker without the project cannot rebuild it, one
    with it can."""
    import pickle

    data = pickle.dumps(SweepEstimator(alpha=0.5))
    script = tmp_path / "load.py"
    script.write_text(
        "import pickle, sys\n"
        "estimator = pickle.loads(sys.stdin.buffer.read())\n"
        "print(type(estimator).__module__, estimator.alpha)\n"
    )
    found = subprocess.run(
        [sys.executable, str(script)], input=data, capture_output=True, check=True
    )
    assert found.stdout.decode().split() == ["newsapi.training.sweep.search", "0.5"]
    # -S: no site-packages, hence neither the project nor its dependencies
    missing = subprocess.run(
        [sys.executable, "-S", str(script)], input=data, capture_output=True, cwd=tmp_path
    )
    assert missing.returncode != 0
    assert "No module named 'newsapi'" in missing.stderr.decode()
