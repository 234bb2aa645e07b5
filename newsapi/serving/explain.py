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
stop words and n-grams with positions kept.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import sklearn
from sklearn.feature_extraction.text import CountVectorizer

from newsapi.errors import NewsapiError
from newsapi.model.params import CLASSIFIER_KINDS

#: the most terms an explanation lists (the rest are summed)
MAX_TOP = 100
#: the score each kind of classifier decides by, as its own method computes it
SCORES = {"coef_": "decision_function", "feature_log_prob_": "joint_log_likelihood"}
_KINDS = {kind.estimator: kind for kind in CLASSIFIER_KINDS.values()}

Span = tuple[int, int]


class ExplanationError(NewsapiError):
    """The served pipeline is not one this module can explain exactly; the message says why."""


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
    _parts(pipeline)


def explain_texts(
    pipeline: Any, target_names: list[str], texts: list[str], top: int = 10
) -> list[Explanation]:
    """The explanation of each text's category, with its ``top`` largest terms listed.

    The arithmetic is done for the whole list at once (one transform, one pass over the
    non-zero features); only the assembling of each answer is per text.
    """
    vectorizer, model, kind = _parts(pipeline)
    if not 0 <= top <= MAX_TOP:
        raise ExplanationError(f"top must be 0 to {MAX_TOP}, got {top}")
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        features = pipeline[:-1].transform(texts).tocsr()
        scores = _scores(model, features)
    count = len(texts)
    # the two highest scores of each text; a stable sort keeps argmax's choice on ties
    order = np.argsort(-scores, axis=1, kind="stable")
    chosen, runner_up = order[:, 0], order[:, 1]
    rows = np.repeat(np.arange(count), np.diff(features.indptr))
    columns, values = features.indices, features.data
    parts = values * _difference_weights(model, kind, chosen[rows], runner_up[rows], columns)
    # each text's terms, largest part first (then vocabulary order), texts kept in order
    ranked = np.lexsort((columns, -np.abs(parts), rows))
    rank = np.arange(len(ranked)) - features.indptr[rows]  # position within its text
    listed = ranked[rank < top]
    hidden = ranked[rank >= top]
    rest = np.bincount(rows[hidden], weights=parts[hidden], minlength=count)
    rest_terms = np.bincount(rows[hidden], minlength=count)
    bias = _bias(model, chosen, runner_up)
    difference = scores[np.arange(count), chosen] - scores[np.arange(count), runner_up]
    names = _feature_names(vectorizer)[columns[listed]].tolist()
    listed_parts, listed_values = parts[listed].tolist(), values[listed].tolist()
    ends = np.cumsum(np.minimum(np.diff(features.indptr), top)).tolist()
    locate = _locator(vectorizer) if len(pipeline) == 2 else None
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


# -- the classifier's side ----------------------------------------------------------------------
def _parts(pipeline: Any) -> tuple[CountVectorizer, Any, str]:
    steps = getattr(pipeline, "steps", None)
    if not steps or len(steps) < 2:
        raise ExplanationError("only a pipeline of a vectorizer and a classifier is explained")
    vectorizer, model = pipeline[-2], pipeline[-1]
    kind = _KINDS.get(type(model).__name__)
    if hasattr(model, "calibrated_classifiers_"):
        raise ExplanationError(
            f"the served classifier is calibrated ({type(model).__name__}): it averages the "
            "probabilities of one classifier per fold, which no sum of term weights gives "
            "exactly; serve a model trained without calibrate to explain it"
        )
    if kind is None:
        known = ", ".join(sorted(_KINDS))
        raise ExplanationError(
            f"the served classifier ({type(model).__name__}) is not one newsapi explains "
            f"exactly ({known})"
        )
    if not isinstance(vectorizer, CountVectorizer) or vectorizer.analyzer != "word":
        raise ExplanationError(
            f"the step before the classifier ({type(vectorizer).__name__}) is not a word "
            "vectorizer (TfidfVectorizer or CountVectorizer with analyzer='word')"
        )
    return vectorizer, model, kind.weights


def _scores(model: Any, features: Any) -> np.ndarray:
    """Each class's score as the classifier decides by it: (texts x classes)."""
    if hasattr(model, "feature_log_prob_"):
        return np.asarray(model.predict_joint_log_proba(features), dtype=float)
    decision = np.asarray(model.decision_function(features), dtype=float)
    if decision.ndim == 1:  # two classes: one score, for the second class against the first
        decision = np.column_stack([np.zeros_like(decision), decision])
    return decision


def _bias(model: Any, chosen: np.ndarray, runner_up: np.ndarray) -> np.ndarray:
    """``b[chosen] - b[runner_up]`` of each text: the part of its difference no term
    carries."""
    if hasattr(model, "feature_log_prob_"):
        # ComplementNB adds its prior only when it knows a single class
        if type(model).__name__ == "ComplementNB" and len(model.classes_) > 1:
            return np.zeros(len(chosen))
        prior = np.asarray(model.class_log_prior_, dtype=float)
        return np.asarray(prior[chosen] - prior[runner_up])
    intercept = np.atleast_1d(np.asarray(model.intercept_, dtype=float))
    if intercept.shape[0] == 1:  # two classes: [0, b]
        intercept = np.array([0.0, intercept[0]])
    return np.asarray(intercept[chosen] - intercept[runner_up])


def _difference_weights(
    model: Any, weights: str, chosen: np.ndarray, runner_up: np.ndarray, columns: np.ndarray
) -> np.ndarray:
    """``W[chosen, j] - W[runner_up, j]`` for each (chosen, runner-up, column) triple."""
    matrix = getattr(model, weights)
    if matrix.shape[0] == 1:  # two classes, one row of weights for the second: [0, w]
        sign = np.where(chosen == 1, 1.0, -1.0)
        return np.asarray(sign * matrix[0, columns], dtype=float)
    return np.asarray(matrix[chosen, columns] - matrix[runner_up, columns], dtype=float)


# vocabularies are large (the book's model: 35,000 terms): their names are listed once per
# vectorizer
_NAMES: weakref.WeakKeyDictionary[Any, np.ndarray] = weakref.WeakKeyDictionary()


def _feature_names(vectorizer: CountVectorizer) -> np.ndarray:
    names = _NAMES.get(vectorizer)
    if names is None:
        names = _NAMES[vectorizer] = vectorizer.get_feature_names_out()
    return names


# -- the text's side: where each term occurs -----------------------------------------------------
def _locator(vectorizer: CountVectorizer) -> Callable[[str, list[str]], list[list[Span]]]:
    """A function from a text and some of its terms to the spans of each term's occurrences,
    the text analysed exactly as the vectorizer analyses it (preprocessing, token pattern,
    stop words, n-grams)."""
    preprocess = vectorizer.build_preprocessor()
    builtin = vectorizer.preprocessor is None  # lowercasing and accent stripping
    plain = builtin and vectorizer.strip_accents is None
    stop_words = vectorizer.get_stop_words()
    ngrams = vectorizer.ngram_range[1] > 1
    pattern = None if vectorizer.tokenizer is not None else re.compile(vectorizer.token_pattern)
    group = 1 if pattern is not None and pattern.groups == 1 else 0

    def locate(text: str, terms: list[str]) -> list[list[Span]]:
        found: list[list[Span]] = [[] for _ in terms]
        if pattern is None or not terms:  # a custom tokenizer gives no positions
            return found
        prepared = preprocess(text)
        original = _original_spans(text, prepared, preprocess, plain=plain, builtin=builtin)
        if original is None:
            return found
        # the tokens as the vectorizer's tokenizer finds them (findall, in C); positions only
        # once a wanted term is there
        words: list[str] = pattern.findall(prepared)
        kept: range | list[int] = range(len(words))
        if stop_words:
            kept = [i for i, word in enumerate(words) if word not in stop_words]
            words = [words[i] for i in kept]
        if not ngrams:  # the common case: each term is one token
            slot = {term: k for k, term in enumerate(terms)}
            at = [i for i, word in enumerate(words) if word in slot]
            if at:
                matches = list(pattern.finditer(prepared))
                for i in at:
                    match = matches[kept[i]]
                    found[slot[words[i]]].append(original(match.start(group), match.end(group)))
            return found
        wanted = [term.split(" ") for term in terms]
        firsts = {parts[0] for parts in wanted}
        candidates: dict[str, list[int]] = {}
        for i in [i for i, word in enumerate(words) if word in firsts]:
            candidates.setdefault(words[i], []).append(i)
        if not candidates:
            return found
        matches = list(pattern.finditer(prepared))
        for spans, parts in zip(found, wanted, strict=True):
            n = len(parts)
            for i in candidates.get(parts[0], ()):
                if words[i : i + n] == parts:
                    first, last = matches[kept[i]], matches[kept[i + n - 1]]
                    spans.append(original(first.start(group), last.end(group)))
        return found

    return locate


def _original_spans(
    text: str, prepared: str, preprocess: Callable[[str], str], *, plain: bool, builtin: bool
) -> Callable[[int, int], Span] | None:
    """A function from a span of the preprocessed text to the same characters' span in
    ``text``; None when that cannot be told (a custom preprocessor that does not work
    character by character)."""
    if plain and len(prepared) == len(text):
        # lowercasing makes one or more characters of each: same length, same positions
        return _same
    # the slow way, for the texts whose length changed ("İ" lowercases to two characters,
    # accent stripping drops combining marks): each character preprocessed alone
    pieces = [preprocess(char) for char in text]
    joined = "".join(pieces)
    # the built-in steps may change a character by its context (a final sigma takes its
    # final form) but never the count of characters it makes
    if joined != prepared and not (builtin and len(joined) == len(prepared)):
        return None
    origin = [i for i, piece in enumerate(pieces) for _ in piece]
    origin.append(len(text))

    def span(start: int, end: int) -> Span:
        # up to the next kept character: the accents stripped after a word's last letter are
        # part of the word (but a character half inside the span is wholly inside)
        return origin[start], max(origin[end - 1] + 1, origin[end])

    return span


def _same(start: int, end: int) -> Span:
    return start, end
