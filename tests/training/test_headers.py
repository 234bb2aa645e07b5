"""The header-artefact rule (newsapi.training.headers): a term is an artefact of a post when
every occurrence is in its header block, an e-mail address or a host name."""

from __future__ import annotations

from newsapi.training.headers import artefact_regions, header_artefacts, is_header_artefact

# written for the test, in the shape of a 20 newsgroups post (no byte of the corpus)
POST = (
    "From: qwerty@zorblat.example.edu (Ann Qwerty)\n"
    "Subject: Re: clipper chip\n"
    "Organization: Zorblat Institute\n"
    "Lines: 7\n"
    "\n"
    "In article <1993Apr1.1234@athos.rutgers.edu> vexil@mail.zorblat.com writes:\n"
    "> the clipper chip is coming\n"
    "Ann says the clipper chip will not hold, e.g. version 7.0 failed.\n"
    "--\n"
    "Ann Qwerty   qwerty@zorblat.example.edu\n"
)


def spans_of(text: str, word: str) -> list[tuple[int, int]]:
    """Every occurrence of ``word`` in ``text`` (case-insensitive), as an explanation's spans."""
    found, at, lower = [], 0, text.lower()
    while (at := lower.find(word, at)) >= 0:
        found.append((at, at + len(word)))
        at += len(word)
    return found


def test_the_header_block_ends_at_the_first_blank_line() -> None:
    regions = artefact_regions(POST)
    assert regions[0] == (0, POST.index("\n\n"))


def test_the_signature_runs_from_the_last_line_of_dashes() -> None:
    assert (POST.index("--\n"), len(POST)) in artefact_regions(POST)
    quoted = "text\n--\nquoted sig\n> more\n-- \nown sig"
    assert (quoted.index("-- \n"), len(quoted)) in artefact_regions(quoted)
    assert artefact_regions("a -- b") == []  # dashes inside a line are punctuation


def test_addresses_and_host_names_anywhere_are_regions() -> None:
    covered = [POST[start:end] for start, end in artefact_regions(POST)[1:]]
    assert "vexil@mail.zorblat.com" in covered
    assert "1993Apr1.1234@athos.rutgers.edu" in covered
    assert "qwerty@zorblat.example.edu" in covered
    # an abbreviation and a version number are not host names
    assert not any("e.g" in region or "7.0" in region for region in covered)


def test_a_term_only_in_headers_and_addresses_is_an_artefact() -> None:
    words = ["qwerty", "zorblat", "organization", "rutgers", "ann", "clipper", "chip", "hold"]
    found = header_artefacts(POST, [(word, spans_of(POST, word)) for word in words])
    # qwerty: the From: line and the signature; zorblat: headers and addresses; rutgers: a
    # quote attribution's message id
    assert found == {"qwerty", "zorblat", "organization", "rutgers"}


def test_one_occurrence_in_the_text_is_enough_to_be_no_artefact() -> None:
    regions = artefact_regions(POST)
    header_only = [span for span in spans_of(POST, "ann") if span[0] < POST.index("\n\n")]
    assert is_header_artefact(header_only, regions)
    assert not is_header_artefact(spans_of(POST, "ann"), regions)  # "Ann says" in the body


def test_a_term_without_known_occurrences_is_no_artefact() -> None:
    assert not is_header_artefact([], artefact_regions(POST))


def test_a_text_without_headers_has_no_header_block() -> None:
    text = "Subject lines aside: the clipper chip\n\nwill not hold"
    assert artefact_regions(text) == []  # "Subject lines aside:" is not a header line
    assert artefact_regions("clipper chip") == []
    headers_only = "From: ann\nSubject: no body"
    assert artefact_regions(headers_only) == [(0, len(headers_only))]
