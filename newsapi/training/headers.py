"""Header artefacts: the parts of a post that say who posted it and from where, not what was
written, and whether a term of an explanation comes only from them.

A 20 newsgroups post starts with its mail headers (``From:``, ``Subject:``,
``Organization:``, ``Lines:``...) up to the first blank line, the block scikit-learn's
``remove=("headers",)`` strips; it may end with a signature after a line of dashes (``--``);
in between, quote attributions carry e-mail addresses and host names
(``In article <...@cs.rutgers.edu> ...``). A term whose every occurrence in a post falls
inside those regions is an artefact there: the model read the sender's name, address or
site, and would not see it in the post's own words.
The rule reads the spans of an explanation's terms (positions in the original post), so it
judges each occurrence, not the word in general.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

Span = tuple[int, int]

#: a mail header line: a field name (letters, digits, hyphens) and a colon, from the line start
HEADER_LINE = re.compile(r"[A-Za-z][A-Za-z0-9-]*:[ \t]")
#: the line before a signature: two or more dashes alone (the Usenet "-- " included)
SIGNATURE_LINE = re.compile(r"^-{2,}[ \t]*$", re.MULTILINE)
#: an e-mail address (``sandvik@newton.apple.com``, also inside ``<...>``)
ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*")
#: a host name: two or more dot-separated labels ending in letters (``athos.rutgers.edu``,
#: ``netcom.com``); version numbers (``7.0``) and abbreviations (``e.g.``) do not match
HOST = re.compile(r"\b(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}\b")


def artefact_regions(text: str) -> list[Span]:
    """``[start, end)`` spans of ``text`` that are headers, a signature, e-mail addresses or
    host names: the header block when the text starts with a header line (up to its first
    blank line, as scikit-learn strips it), what follows the last line of dashes, and every
    address and host name; in order of their start."""
    regions: list[Span] = []
    body = 0
    if HEADER_LINE.match(text):
        end = text.find("\n\n")
        body = len(text) if end < 0 else end
        regions.append((0, body))
    signatures = [match.start() for match in SIGNATURE_LINE.finditer(text, body)]
    if signatures:  # the last one: a post may quote another's signature above its own
        regions.append((signatures[-1], len(text)))
    regions.extend(match.span() for match in ADDRESS.finditer(text))
    regions.extend(match.span() for match in HOST.finditer(text))
    return sorted(regions)


def is_header_artefact(spans: Sequence[Span], regions: Iterable[Span]) -> bool:
    """Whether every occurrence (``spans``) lies inside one of ``regions``; False for a term
    without known occurrences (nothing shows it comes from a header)."""
    inside = list(regions)
    return bool(spans) and all(
        any(start <= first and last <= end for start, end in inside) for first, last in spans
    )


def header_artefacts(text: str, terms: Iterable[tuple[str, Sequence[Span]]]) -> set[str]:
    """Which of ``terms`` (each with the spans of its occurrences in ``text``) are header
    artefacts in ``text``."""
    regions = artefact_regions(text)
    return {term for term, spans in terms if is_header_artefact(spans, regions)}
