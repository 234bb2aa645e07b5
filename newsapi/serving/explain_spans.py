"""Where each term of an explanation occurs in the original text: character spans found by
analysing the text exactly as the vectorizer does (its preprocessing, token pattern, stop words
and n-grams), with the positions kept.

Spans are Python string indices (Unicode code points) into the text as sent, also when the
vectorizer's preprocessing changes the text's length (lowercasing "İ", stripping accents).
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from typing import Any

from sklearn.feature_extraction.text import CountVectorizer

Span = tuple[int, int]
Locate = Callable[[str, list[str]], list[list[Span]]]

# one locator per vectorizer: building one reads the vectorizer's options and stop words,
# which would otherwise be paid by every explanation
_LOCATORS: weakref.WeakKeyDictionary[Any, Locate] = weakref.WeakKeyDictionary()


def locator(vectorizer: CountVectorizer) -> Locate:
    """A function from a text and some of its terms to the spans of each term's occurrences
    (built once per vectorizer)."""
    locate = _LOCATORS.get(vectorizer)
    if locate is None:
        locate = _LOCATORS[vectorizer] = _locator(vectorizer)
    return locate


def _locator(vectorizer: CountVectorizer) -> Locate:
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
        if not ngrams and not stop_words:  # the common case: each token a term, in one pass
            slot = {term: k for k, term in enumerate(terms)}
            for match in pattern.finditer(prepared):
                k = slot.get(match.group(group))
                if k is not None:
                    found[k].append(original(match.start(group), match.end(group)))
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
