"""Reading one batch ahead (``newsapi.scoring.ahead``): the items come in order, an error
while reading comes at its place, and a caller that stops early leaves no thread behind and
its reader closed."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from newsapi.scoring.ahead import read_ahead


def readers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "newsapi-score-read"]


def test_the_items_come_in_order_and_the_thread_ends() -> None:
    assert list(read_ahead(iter(range(50)))) == list(range(50))
    assert list(read_ahead(iter([]))) == []
    assert readers() == []


def test_an_error_while_reading_comes_after_the_items_before_it() -> None:
    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("row 3 does not parse")

    got: list[int] = []

    def take_all() -> None:
        got.extend(read_ahead(failing()))

    with pytest.raises(ValueError, match="row 3 does not parse"):
        take_all()
    assert got == [1, 2]
    assert readers() == []


def test_a_caller_that_stops_early_closes_the_reader() -> None:
    closed = threading.Event()
    read = []

    def endless() -> Iterator[int]:
        try:
            n = 0
            while True:
                read.append(n)
                yield n
                n += 1
        finally:
            closed.set()

    def stop_at_three() -> None:
        for item in read_ahead(endless(), depth=1):
            if item == 3:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        stop_at_three()
    assert closed.is_set()
    assert readers() == []
    assert len(read) <= 3 + 1 + 2  # the items taken, the one queued, the one being read
