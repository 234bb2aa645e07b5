"""What the sweep tests share: a grid, a corpus hard enough that candidates score
differently, and the check that two searches gave the same results."""

from __future__ import annotations

import numpy as np

from newsapi.model.data import Corpus
from newsapi.training.sweep.search import SweepOutcome
from tests.support.corpora import TOPICS, overlapping_sentences

SWEEP_GRID = [
    {"classifier": ["multinomial_nb", "complement_nb"], "alpha": [0.1, 1.0, 10.0]},
    {"classifier": ["linear_svc"], "C": [0.01, 1.0], "sublinear_tf": [True, False]},
]


def overlapping_corpus() -> Corpus:
    """:func:`overlapping_sentences` as a corpus, all of it for training (a sweep
    cross-validates)."""
    rows = overlapping_sentences()
    names = sorted(TOPICS)
    return Corpus(
        train_texts=[text for text, _ in rows],
        train_labels=[names.index(label) for _, label in rows],
        test_texts=[],
        test_labels=[],
        target_names=names,
        description={"source": "tests"},
    )


def assert_same_results(a: SweepOutcome, b: SweepOutcome) -> None:
    """The same winner, candidates, scores and ranks."""
    assert a.best_params == b.best_params
    assert a.cv_results["params"] == b.cv_results["params"]
    for key in ("mean_test_score", "std_test_score", "split0_test_score", "split2_test_score"):
        np.testing.assert_allclose(a.cv_results[key], b.cv_results[key], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(a.cv_results["rank_test_score"], b.cv_results["rank_test_score"])
