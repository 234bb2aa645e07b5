"""The model's most confident mistakes on a labelled split, and the terms that decided them.

The terms come from an explanation (``newsapi.serving.explain``, which the notebooks call;
training cannot import serving), passed here as its JSON-ready form: each term's weight (its
part of the score difference between the predicted category and the runner-up) and the
spans of its occurrences. Deciding terms are the ones with a positive part: they pulled the
post towards the wrong category.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from newsapi.errors import NewsapiError
from newsapi.training.headers import artefact_regions, is_header_artefact

Explain = Callable[[list[str]], Sequence[Any]]
#: where a header artefact occurs (newsapi.training.headers)
WHERE = "headers, signatures, e-mail addresses or host names"


@dataclass(frozen=True, slots=True)
class Mistake:
    """A post of the split the model got wrong, and how sure it was."""

    index: int  #: the post's position in the split
    true: str
    predicted: str
    confidence: float
    #: what ``confidence`` is: "probability" (of the predicted category) or "margin" (its
    #: decision value minus the runner-up's, for a classifier without probabilities)
    measure: str


@dataclass(frozen=True, slots=True)
class DecidingTerm:
    """A term that pulled a post towards its predicted category."""

    term: str
    weight: float
    artefact: bool  #: every occurrence is in a header, a signature, an address or a host name


def confident_mistakes(
    pipeline: Any, texts: Sequence[str], labels: Sequence[int], target_names: list[str], n: int = 5
) -> list[Mistake]:
    """The ``n`` wrongly predicted ``texts`` the model was surest of, surest first (ties in
    the split's order): by the probability of the predicted category when the classifier
    has one, else by the margin of its decision value over the runner-up's."""
    predicted = np.asarray(pipeline.predict(texts))
    classes = list(pipeline[-1].classes_)
    column = np.searchsorted(classes, predicted)
    if hasattr(pipeline, "predict_proba"):
        scores, measure = np.asarray(pipeline.predict_proba(texts)), "probability"
        confidence = scores[np.arange(len(texts)), column]
    else:
        decision = np.asarray(pipeline.decision_function(texts))
        if decision.ndim == 1:  # binary: the distance from the boundary
            confidence, measure = np.abs(decision), "margin"
        else:
            ranked = np.sort(decision, axis=1)
            confidence, measure = ranked[:, -1] - ranked[:, -2], "margin"
    wrong = np.flatnonzero(predicted != np.asarray(labels))
    order = wrong[np.argsort(-confidence[wrong], kind="stable")][:n]
    return [
        Mistake(
            index=int(i),
            true=target_names[int(labels[i])],
            predicted=target_names[int(predicted[i])],
            confidence=float(confidence[i]),
            measure=measure,
        )
        for i in order
    ]


def deciding_terms(text: str, explanation: Mapping[str, Any]) -> list[DecidingTerm]:
    """The terms of ``explanation`` (an explanation's ``as_dict()`` for ``text``) that pulled
    ``text`` towards its category, largest part first, each marked when it is a header
    artefact in ``text`` (:mod:`newsapi.training.headers`)."""
    regions = artefact_regions(text)
    return [
        DecidingTerm(
            term=str(term["term"]),
            weight=float(term["weight"]),
            artefact=is_header_artefact([tuple(span) for span in term["spans"]], regions),
        )
        for term in explanation["terms"]
        if term["weight"] > 0
    ]


@dataclass(frozen=True, slots=True)
class ExplainedMistakes:
    """The most confident mistakes, the terms that decided each (in the same order), or why
    they could not be explained."""

    mistakes: list[Mistake]
    deciding: list[list[DecidingTerm]]
    unexplained: str | None = None

    def sentence(self) -> str:
        """How many of the deciding terms are header artefacts, in one sentence."""
        if not self.mistakes:
            return "The model made no mistake on this split."
        if self.unexplained is not None:
            return f"The deciding terms are not known: {self.unexplained}."
        terms = [term for post in self.deciding for term in post]
        artefacts = sum(term.artefact for term in terms)
        posts = sum(any(term.artefact for term in post) for post in self.deciding)
        count = len(self.mistakes)
        these = "this mistake" if count == 1 else f"these {count} mistakes"
        if not artefacts:
            return f"None of the {len(terms)} terms that decided {these} occurs only in {WHERE}."
        verb = "occurs" if artefacts == 1 else "occur"
        spread = "" if count == 1 else f" (in {posts} of the {count} posts)"
        return (
            f"{artefacts} of the {len(terms)} terms that decided {these} {verb} only in "
            f"{WHERE}{spread}: for those, the model read who posted from where, not "
            "what was written."
        )


def explain_mistakes(
    pipeline: Any,
    texts: Sequence[str],
    labels: Sequence[int],
    target_names: list[str],
    explain: Explain,
    n: int = 5,
) -> ExplainedMistakes:
    """:func:`confident_mistakes` with the terms that decided each: ``explain(posts)`` gives
    their explanations (objects with ``as_dict()``, such as ``newsapi.serving.explain``'s);
    a model it cannot explain exactly (it raises a :class:`~newsapi.errors.NewsapiError`)
    keeps its mistakes, with the reason instead of the terms."""
    mistakes = confident_mistakes(pipeline, texts, labels, target_names, n)
    posts = [texts[mistake.index] for mistake in mistakes]
    try:
        explanations = explain(posts) if posts else []
    except NewsapiError as exc:
        return ExplainedMistakes(mistakes, [[] for _ in mistakes], str(exc))
    deciding = [
        deciding_terms(post, explanation.as_dict())
        for post, explanation in zip(posts, explanations, strict=True)
    ]
    return ExplainedMistakes(mistakes, deciding)
