"""Explanations as HTML: a text with its deciding words highlighted, and terms as chips.

Readable where styles are dropped (GitHub's notebook view keeps the ``<mark>`` elements and
the text but may drop inline styles): every highlighted word is a ``<mark>`` and every chip
spells out its weight and, for a header artefact, says so in words. Everything from the data
goes through the ``escape`` function given (HTML's by default; the model card passes its
Markdown escaping), so a term or a text can carry no markup of its own.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from newsapi.training.mistakes import DecidingTerm, ExplainedMistakes

Escape = Callable[[str], str]

#: towards the category / towards the runner-up (the colours of the /try page)
FOR_CATEGORY = "#cfe3ff"
FOR_RUNNER_UP = "#ffd6d6"
ARTEFACT = "#ffe8a3"
_CHIP = "border-radius:0.6em;padding:0.05em 0.45em;margin:0.1em;display:inline-block"


def highlighted(text: str, terms: Sequence[Mapping[str, Any]], escape: Escape = html.escape) -> str:
    """``text`` with the occurrences of ``terms`` (an explanation's terms: ``term``,
    ``weight``, ``spans``) marked, blue for a term pulling towards the category and red for
    one pulling towards the runner-up; each mark's title gives the term's weight. Where the
    spans of two terms overlap (an n-gram and its words), the first one listed (the larger
    part) is marked."""
    marks: list[tuple[int, int, Mapping[str, Any]]] = []
    taken: list[tuple[int, int]] = []
    for term in terms:
        for start, end in term["spans"]:
            if any(start < right and left < end for left, right in taken):
                continue
            taken.append((start, end))
            marks.append((start, end, term))
    marks.sort(key=lambda mark: mark[0])
    pieces, at = [], 0
    for start, end, term in marks:
        colour = FOR_CATEGORY if term["weight"] > 0 else FOR_RUNNER_UP
        title = html.escape(f"{term['term']}: {term['weight']:+.3f}", quote=True)
        pieces.append(escape(text[at:start]))
        pieces.append(
            f'<mark style="background:{colour}" title="{title}">{escape(text[start:end])}</mark>'
        )
        at = end
    pieces.append(escape(text[at:]))
    return "".join(pieces)


def term_chips(terms: Sequence[DecidingTerm], escape: Escape = html.escape) -> str:
    """Each term as a chip with its weight; a header artefact in yellow, marked "header"."""
    chips = []
    for term in terms:
        colour = ARTEFACT if term.artefact else FOR_CATEGORY
        label = f"{escape(term.term)} {term.weight:+.2f}"
        if term.artefact:
            label += " <small>(header)</small>"
        chips.append(f'<mark style="background:{colour};{_CHIP}">{label}</mark>')
    return " ".join(chips)


def mistakes_table(explained: ExplainedMistakes) -> str:
    """An HTML table of the mistakes (true and predicted category, confidence) with the
    chips of the terms that decided each; the posts themselves are not shown."""
    rows = [
        "<tr><th>post</th><th>true category</th><th>predicted</th><th>confidence</th>"
        "<th>deciding terms</th></tr>"
    ]
    for mistake, terms in zip(explained.mistakes, explained.deciding, strict=True):
        confidence = (
            f"{mistake.confidence:.4f}"
            if mistake.measure == "probability"
            else f"margin {mistake.confidence:.3f}"
        )
        chips = term_chips(terms) if explained.unexplained is None else "not explained"
        rows.append(
            f"<tr><td>#{mistake.index}</td><td>{html.escape(mistake.true)}</td>"
            f"<td>{html.escape(mistake.predicted)}</td><td>{confidence}</td>"
            f"<td style='text-align:left'>{chips}</td></tr>"
        )
    return "<table>" + "".join(rows) + "</table>"
