"""The lean path against scikit-learn: where their answers differ, and the check at every load."""

from __future__ import annotations

from itertools import islice
from typing import Any

import numpy as np

from newsapi.serving.lean.compile import NAIVE_BAYES
from newsapi.serving.lean.model import LeanModel, NotCompiledError

#: how far a probability may be from scikit-learn's before :func:`check` refuses the model
PROBABILITY_TOLERANCE = 1e-12


def probe_texts(lean: LeanModel) -> list[str]:
    """Texts that exercise every step: none, unknown, many and repeated known terms."""
    terms = list(islice(lean.vocabulary, 200))
    return [
        "",
        "warm up",
        "qqqzx zzqxq",
        " ".join(terms),
        " ".join(terms[::7] * 3),
        " ".join(terms[-5:]).upper(),
    ]


def disagreements(
    lean: LeanModel, pipeline: Any, texts: list[str], features: Any = None
) -> list[str]:
    """How ``lean``'s answers for ``texts`` differ from the fitted ``pipeline``'s, one text at
    a time and as one matrix: labels and decision values must be equal, probabilities within
    :data:`PROBABILITY_TOLERANCE`. Empty when they agree. ``features``: the texts already
    through the pipeline's vectorizer, when the caller has them."""
    if features is None:
        features = pipeline[:-1].transform(texts)
    model = pipeline[-1]
    labels = model.predict(features)  # what pipeline.predict(texts) does after transform
    name = type(model).__name__
    reference = (
        model.predict_joint_log_proba(features)
        if name in NAIVE_BAYES
        else model.decision_function(features)
    ).reshape(len(texts), -1)
    proba = model.predict_proba(features) if lean.probabilities is not None else None
    problems = []
    for how, decisions in (
        ("one by one", lean.decisions_one_by_one(texts)),
        ("as a matrix", lean.decisions_as_matrix(texts)),
    ):
        chosen = lean.labels_of(decisions)
        for i in np.flatnonzero(chosen != labels):
            problems.append(f"{how}: text {i} gets {chosen[i]}, not {labels[i]}")
        for i in np.flatnonzero((decisions != reference).any(axis=1)):
            gap = float(np.abs(decisions[i] - reference[i]).max())
            problems.append(f"{how}: text {i}'s decision values differ (by up to {gap:.3g})")
        if proba is not None:
            gaps = np.abs(lean.probabilities_of(decisions) - proba).max(axis=1)
            for i in np.flatnonzero(gaps > PROBABILITY_TOLERANCE):
                problems.append(f"{how}: text {i}'s probabilities differ by {gaps[i]:.3g}")
    return problems


def check(lean: LeanModel, pipeline: Any) -> None:
    """Refuse ``lean`` (:class:`NotCompiledError`) when it disagrees with ``pipeline`` on the
    :func:`probe_texts`: done at every load, so that a platform or a scikit-learn version
    that computes differently serves through scikit-learn instead of serving other answers."""
    problems = disagreements(lean, pipeline, probe_texts(lean))
    if problems:
        raise NotCompiledError(
            f"the lean path disagreed with scikit-learn on a probe text ({problems[0]})"
        )
