"""Exact explanations of one text's category, read off the fitted pipeline's weights.

Every classifier the project trains scores a text linearly in its TF-IDF features
``x``: ``score[k] = x · W[k] + b[k]``, where ``W`` and ``b`` are ``coef_`` and ``intercept_``
(the linear models' ``decision_function``) or ``feature_log_prob_`` and the class log prior
(naive Bayes' joint log likelihood; complement naive Bayes has no prior term with two or more
classes). The category is the class with the highest score; the runner-up is the next one.
So the difference between the two is exactly a sum of one part per term of the text plus a
constant::

    score[chosen] - score[runner_up] = Σ_j x_j (W[chosen, j] - W[runner_up, j])
                                       + (b[chosen] - b[runner_up])

and each term's part is its weight here: nothing is sampled or approximated. Each term also
gets the character spans of its occurrences in the original text (Python string indices:
Unicode code points), found by running the vectorizer's own preprocessing, token pattern,
stop words and n-grams with positions kept (:mod:`newsapi.serving.explain_spans`).

The features ``x`` and the scores come from the pipeline's lean form
(:mod:`newsapi.serving.lean`) when it has one: the vectorizer's analyzer, vocabulary and idf
and the classifier's own weight arrays, computed as scikit-learn computes them (the same
values bit for bit, checked against scikit-learn when the lean form is built), without
scikit-learn's per-call input checks and sparse bookkeeping, which cost an explanation of one
text most of its time. A pipeline the lean path does not compute is explained through
scikit-learn's ``transform`` and scores, with the same arithmetic after them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from newsapi.serving.explain_spans import Locate, Span, locator
from newsapi.serving.explain_weights import (
    SCORES,
    ExplanationError,
    bias_of,
    difference_weights,
    feature_names,
    features_and_scores,
    pipeline_parts,
)
from newsapi.serving.lean import ONE_BY_ONE_MAX, LeanModel

#: the most terms an explanation lists (the rest are summed)
MAX_TOP = 100

__all__ = [
    "MAX_TOP",
    "SCORES",
    "Explanation",
    "ExplanationError",
    "Span",
    "TermWeight",
    "explain_texts",
    "explainable",
]


@dataclass(frozen=True, slots=True)
class TermWeight:
    """One term of the text: its part of the score difference, its TF-IDF value, and where
    it occurs (``[start, end)`` character spans, in order; empty when they cannot be found)."""

    term: str
    weight: float
    value: float
    spans: tuple[Span, ...]

    def as_dict(self) -> dict[str, Any]:
        spans = [list(span) for span in self.spans]
        return {"term": self.term, "weight": self.weight, "value": self.value, "spans": spans}


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a text got its category rather than the runner-up.

    ``bias + sum(t.weight for t in terms) + rest == difference`` (to rounding), where
    ``difference`` is ``score[category] - score[runner_up]`` as the classifier computes it.
    """

    category: str
    runner_up: str
    score: str  #: "decision_function" or "joint_log_likelihood"
    difference: float
    bias: float  #: the intercept (or class prior) difference: the part no term carries
    terms: list[TermWeight]  #: the largest parts first (by absolute weight)
    rest: float  #: the parts of the text's other terms, summed
    rest_terms: int  #: how many other terms

    def as_dict(self) -> dict[str, Any]:
        """The explanation as JSON-ready values (spans as ``[start, end]`` pairs)."""
        return {
            "category": self.category,
            "runner_up": self.runner_up,
            "score": self.score,
            "difference": self.difference,
            "bias": self.bias,
            "terms": [term.as_dict() for term in self.terms],
            "rest": self.rest,
            "rest_terms": self.rest_terms,
        }


def explainable(pipeline: Any) -> None:
    """Raise :class:`ExplanationError` unless ``pipeline`` ends with a word vectorizer and
    one of the classifiers newsapi trains (checked before any work is queued)."""
    pipeline_parts(pipeline)


def explain_texts(
    pipeline: Any,
    target_names: list[str],
    texts: list[str],
    top: int = 10,
    *,
    lean: bool | LeanModel = True,
) -> list[Explanation]:
    """The explanation of each text's category, with its ``top`` largest terms listed.

    The features and scores come from the pipeline's lean form (:mod:`newsapi.serving.lean`,
    the same values as scikit-learn's ``transform`` and scores, bit for bit, without its
    per-call costs) when it compiles, else (or with ``lean=False``) from scikit-learn itself;
    a server passes the lean form its predictor already holds, so that it is not compiled
    twice.
    A few texts (up to ``ONE_BY_ONE_MAX``) are explained one by one, a larger list in one pass
    over all their non-zero features (NumPy's fixed cost per operation is paid once, not per
    text); both give the same numbers (tested).
    """
    vectorizer, model, kind = pipeline_parts(pipeline)
    if not 0 <= top <= MAX_TOP:
        raise ExplanationError(f"top must be 0 to {MAX_TOP}, got {top}")
    features, scores = features_and_scores(pipeline, texts, lean=lean)
    located = locator(vectorizer) if len(pipeline) == 2 else None
    build = _Builder(target_names, model, kind, feature_names(vectorizer), located)
    if len(texts) <= ONE_BY_ONE_MAX:
        indptr = features.indptr.tolist()
        return [
            _explain_one(build, text, top, features, indptr[i], indptr[i + 1], scores[i])
            for i, text in enumerate(texts)
        ]
    return _explain_many(build, texts, top, features, scores)


@dataclass(frozen=True, slots=True)
class _Builder:
    """What assembling an explanation needs of the model, beside the arithmetic."""

    target_names: list[str]
    model: Any
    kind: str  #: the name of the classifier's weights
    names: np.ndarray  #: the vocabulary's terms by column
    locate: Locate | None

    def explanation(
        self,
        text: str,
        classes: tuple[int, int],
        columns: np.ndarray,
        parts: list[float],
        values: list[float],
        numbers: tuple[float, float, float, int],
    ) -> Explanation:
        """``text``'s explanation: ``classes`` are the category's and the runner-up's
        positions, ``columns``, ``parts`` and ``values`` the listed terms', ``numbers`` the
        difference, the bias, the rest and the count of other terms."""
        terms = self.names[columns].tolist()
        spans = self.locate(text, terms) if self.locate is not None else [[] for _ in terms]
        labels = self.model.classes_
        difference, bias, rest, rest_terms = numbers
        return Explanation(
            category=self.target_names[int(labels[classes[0]])],
            runner_up=self.target_names[int(labels[classes[1]])],
            score=SCORES[self.kind],
            difference=difference,
            bias=bias,
            terms=[
                TermWeight(str(term), weight, value, tuple(where))
                for term, weight, value, where in zip(terms, parts, values, spans, strict=True)
            ],
            rest=rest,
            rest_terms=rest_terms,
        )


def _explain_one(
    build: _Builder, text: str, top: int, features: Any, start: int, end: int, row: np.ndarray
) -> Explanation:
    """One text's explanation from its row of features and its scores."""
    columns, values = features.indices[start:end], features.data[start:end]
    # the two highest scores; a stable sort keeps argmax's choice on ties
    order = np.argsort(-row, kind="stable")
    chosen, runner_up = int(order[0]), int(order[1])
    parts = values * difference_weights(build.model, build.kind, chosen, runner_up, columns)
    # largest part first, then vocabulary order
    ranked = np.lexsort((columns, -np.abs(parts)))
    listed, hidden = ranked[:top], ranked[top:]
    # summed from 0.0 in this order, as np.bincount sums the many texts' rests
    rest = float(np.add.accumulate(np.concatenate(([0.0], parts[hidden])))[-1])
    bias = float(bias_of(build.model, np.array([chosen]), np.array([runner_up]))[0])
    difference = float(row[chosen] - row[runner_up])
    return build.explanation(
        text,
        (chosen, runner_up),
        columns[listed],
        parts[listed].tolist(),
        values[listed].tolist(),
        (difference, bias, rest, len(hidden)),
    )


def _explain_many(
    build: _Builder, texts: list[str], top: int, features: Any, scores: np.ndarray
) -> list[Explanation]:
    """The texts' explanations, the arithmetic done for all of them at once."""
    count = len(texts)
    order = np.argsort(-scores, axis=1, kind="stable")
    chosen, runner_up = order[:, 0], order[:, 1]
    rows = np.repeat(np.arange(count), np.diff(features.indptr))
    columns, values = features.indices, features.data
    parts = values * difference_weights(
        build.model, build.kind, chosen[rows], runner_up[rows], columns
    )
    # each text's terms, largest part first (then vocabulary order), texts kept in order
    ranked = np.lexsort((columns, -np.abs(parts), rows))
    rank = np.arange(len(ranked)) - features.indptr[rows]  # position within its text
    listed = ranked[rank < top]
    hidden = ranked[rank >= top]
    rest = np.bincount(rows[hidden], weights=parts[hidden], minlength=count).tolist()
    rest_terms = np.bincount(rows[hidden], minlength=count).tolist()
    bias = bias_of(build.model, chosen, runner_up).tolist()
    every = np.arange(count)
    difference = (scores[every, chosen] - scores[every, runner_up]).tolist()
    listed_columns = columns[listed]
    listed_parts, listed_values = parts[listed].tolist(), values[listed].tolist()
    ends = np.cumsum(np.minimum(np.diff(features.indptr), top)).tolist()
    explanations = []
    start = 0
    for i, text in enumerate(texts):
        end = ends[i]
        explanations.append(
            build.explanation(
                text,
                (int(chosen[i]), int(runner_up[i])),
                listed_columns[start:end],
                listed_parts[start:end],
                listed_values[start:end],
                (difference[i], bias[i], rest[i], rest_terms[i]),
            )
        )
        start = end
    return explanations
