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

from newsapi.serving.explain_spans import Span, locator
from newsapi.serving.explain_weights import (
    SCORES,
    ExplanationError,
    bias_of,
    difference_weights,
    feature_names,
    features_and_scores,
    pipeline_parts,
)

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
    pipeline: Any, target_names: list[str], texts: list[str], top: int = 10, *, lean: bool = True
) -> list[Explanation]:
    """The explanation of each text's category, with its ``top`` largest terms listed.

    The arithmetic is done for the whole list at once (one pass over the non-zero features);
    only the assembling of each answer is per text. The features and scores come from the
    pipeline's lean form (:mod:`newsapi.serving.lean`, the same values as scikit-learn's
    ``transform`` and scores, bit for bit, without its per-call costs) when it compiles, else
    (or with ``lean=False``) from scikit-learn itself.
    """
    vectorizer, model, kind = pipeline_parts(pipeline)
    if not 0 <= top <= MAX_TOP:
        raise ExplanationError(f"top must be 0 to {MAX_TOP}, got {top}")
    features, scores = features_and_scores(pipeline, texts, lean=lean)
    count = len(texts)
    # the two highest scores of each text; a stable sort keeps argmax's choice on ties
    order = np.argsort(-scores, axis=1, kind="stable")
    chosen, runner_up = order[:, 0], order[:, 1]
    rows = np.repeat(np.arange(count), np.diff(features.indptr))
    columns, values = features.indices, features.data
    parts = values * difference_weights(model, kind, chosen[rows], runner_up[rows], columns)
    # each text's terms, largest part first (then vocabulary order), texts kept in order
    ranked = np.lexsort((columns, -np.abs(parts), rows))
    rank = np.arange(len(ranked)) - features.indptr[rows]  # position within its text
    listed = ranked[rank < top]
    hidden = ranked[rank >= top]
    rest = np.bincount(rows[hidden], weights=parts[hidden], minlength=count)
    rest_terms = np.bincount(rows[hidden], minlength=count)
    bias = bias_of(model, chosen, runner_up)
    difference = scores[np.arange(count), chosen] - scores[np.arange(count), runner_up]
    names = feature_names(vectorizer)[columns[listed]].tolist()
    listed_parts, listed_values = parts[listed].tolist(), values[listed].tolist()
    ends = np.cumsum(np.minimum(np.diff(features.indptr), top)).tolist()
    locate = locator(vectorizer) if len(pipeline) == 2 else None
    classes = model.classes_
    explanations = []
    start = 0
    for i, text in enumerate(texts):
        end = ends[i]
        terms = names[start:end]
        spans = locate(text, terms) if locate is not None else [[] for _ in terms]
        explanations.append(
            Explanation(
                category=target_names[int(classes[chosen[i]])],
                runner_up=target_names[int(classes[runner_up[i]])],
                score=SCORES[kind],
                difference=float(difference[i]),
                bias=float(bias[i]),
                terms=[
                    TermWeight(str(term), weight, value, tuple(where))
                    for term, weight, value, where in zip(
                        terms,
                        listed_parts[start:end],
                        listed_values[start:end],
                        spans,
                        strict=True,
                    )
                ],
                rest=float(rest[i]),
                rest_terms=int(rest_terms[i]),
            )
        )
        start = end
    return explanations
