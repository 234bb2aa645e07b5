"""The log writer's child process (:mod:`newsapi.serving.predlog.child`): started once the
traffic warrants it, the same measures as the worker's own, and a killed child replaced by
the worker's thread."""

from __future__ import annotations

import logging
import os
import signal
import time

import pytest

from newsapi.model.artifact import Artifact
from newsapi.serving.predictor import prepare
from newsapi.serving.predlog.child import START_AFTER, ChildMeasurer
from newsapi.serving.predlog.record import measure_columns
from tests.support.corpora import mixed_sentences


def test_a_busy_writer_measures_in_a_child_with_the_same_values(
    tiny_model: Artifact, caplog: pytest.LogCaptureFixture
) -> None:
    predictor = prepare(tiny_model.pipeline)
    names = tiny_model.target_names
    texts = mixed_sentences(START_AFTER + 64, seed=11)
    early, late = texts[:START_AFTER], texts[START_AFTER:]
    measurer = ChildMeasurer()
    try:
        few = measurer.measure(predictor, names, early[:10])  # too few: no child
        assert measurer.pid is None
        assert few == measure_columns(predictor, names, early[:10])
        measurer.measure(predictor, names, early[10:])  # enough: the child starts
        deadline = time.monotonic() + 60
        while measurer.pid is None:
            assert time.monotonic() < deadline, "the child did not start"
            time.sleep(0.05)
        child = measurer.pid
        assert child != os.getpid()
        assert measurer.measure(predictor, names, late) == measure_columns(predictor, names, late)
        assert measurer.measured_in_child == len(late)
        # a child killed: the thread measures the same values, one warning says so
        os.kill(child, signal.SIGKILL)
        with caplog.at_level(logging.WARNING, logger="newsapi.serving.predlog"):
            again = measurer.measure(predictor, names, late)
        assert again == measure_columns(predictor, names, late)
        assert measurer.measured_in_child == len(late)
        assert "child process failed" in caplog.text
        assert measurer.pid is None
    finally:
        measurer.stop(wait=True)
