"""What start-up does to the process and to each model it loads, so that serving is fast.

Two measured policies: the garbage collector stops rescanning what start-up loaded (once per
process), and the classifier's weights are laid out for ``predict`` (once per model).
"""

from __future__ import annotations

import gc
from typing import Any

import numpy as np

from newsapi.model.params import CLASSIFIER_KINDS


def freeze_startup_objects() -> None:
    """The garbage-collector policy of the process, set once at start-up.

    Everything loaded by then (libraries, the first model) lives for the process's life, so
    it is moved out of the collector's sight: otherwise every full collection rescans the
    library objects, pauses that showed in the unique-text p99 under load (the docs'
    benchmark page). Not repeated on reload: a reloaded model is a few hundred tracked
    objects, and a frozen one could never be collected once replaced.
    """
    gc.collect()
    gc.freeze()


# The classifiers newsapi trains: their predict, predict_proba and decision_function multiply
# by these weights and nothing more (another estimator, e.g. BernoulliNB, also sums them along
# rows, whose order Fortran layout could change).
LAID_OUT = {kind.estimator: kind.weights for kind in CLASSIFIER_KINDS.values()}


def lay_out_weights(pipeline: Any) -> None:
    """Store the final estimator's weights so that ``predict`` does not copy them each call.

    Naive Bayes and the linear classifiers multiply the sparse features by the transpose of
    their (classes x features) weights; scipy wants that transpose C-contiguous and copies
    it at every call when it is not (1 MB for the book's model: 15% of a small batch's
    ``predict``, measured with cProfile). Fortran order makes the transpose C-contiguous:
    the same numbers, the same products, the same answers (tested), and no copy. Only for
    :data:`LAID_OUT`'s classifiers; a served model is never trained further.
    """
    final = pipeline[-1] if hasattr(pipeline, "steps") else pipeline
    name = LAID_OUT.get(type(final).__name__)
    if name is None:
        return
    weights = getattr(final, name, None)
    if isinstance(weights, np.ndarray) and weights.ndim == 2 and weights.shape[0] > 1:
        setattr(final, name, np.asfortranarray(weights))
