"""FaultLog: every fault counted, the first of each kind logged, with its detail."""

from __future__ import annotations

import logging

import pytest
from prometheus_client import CollectorRegistry, Counter

from newsapi.serving.faults import FaultLog


def test_each_kind_is_logged_once_and_counted_every_time(caplog: pytest.LogCaptureFixture) -> None:
    registry = CollectorRegistry()
    counter = Counter("faults", "faults by kind", ["kind"], registry=registry)
    faults = FaultLog(logging.getLogger("test.faults"), "disk cache", "serving without it", counter)
    with caplog.at_level(logging.WARNING, logger="test.faults"):
        for _ in range(3):
            faults.report("write", "%s (in %s)", OSError(30, "Read-only file system"), "/c")
        faults.report("trim", "%r", ValueError("x"))
    assert caplog.messages == [
        "disk cache fault (write): [Errno 30] Read-only file system (in /c); serving without it",
        "disk cache fault (trim): ValueError('x'); serving without it",
    ]
    assert registry.get_sample_value("faults_total", {"kind": "write"}) == 3
    assert registry.get_sample_value("faults_total", {"kind": "trim"}) == 1


def test_without_a_counter_it_only_logs(caplog: pytest.LogCaptureFixture) -> None:
    faults = FaultLog(logging.getLogger("test.faults"), "feedback", "records dropped")
    with caplog.at_level(logging.WARNING, logger="test.faults"):
        faults.report("write", "%s", "disk full")
        faults.report("write", "%s", "disk full")
    assert caplog.messages == ["feedback fault (write): disk full; records dropped"]
