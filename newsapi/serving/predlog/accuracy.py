"""Live accuracy: over the last feedback a worker received on each model version's answers,
the share whose label is the answer the model gave (``/metrics``, beside the window gauges
of :mod:`newsapi.serving.predlog.window`).

Only feedback that names an answer counts: a logged request's (its record holds the model
version and the category), or a text's (the served model's answer to it when the feedback
arrived). Memory is bounded as the prediction window's: ``size`` booleans for each of the last
``versions`` model versions.
"""

from __future__ import annotations

import contextlib
from collections import deque

from newsapi.serving.metrics import Metrics
from newsapi.serving.predlog.window import VERSIONS


class Accuracy:
    """The last ``size`` feedback records of each of the last :data:`VERSIONS` versions."""

    def __init__(self, metrics: Metrics, size: int, versions: int = VERSIONS) -> None:
        self.metrics = metrics
        self.size = size
        self.versions = versions
        self._windows: dict[str, deque[bool]] = {}  # least recently given feedback first

    def add(self, model_version: str, category: str, label: str) -> None:
        """One feedback record: ``label`` for the answer ``category`` of ``model_version``."""
        window = self._windows.pop(model_version, None) or deque(maxlen=self.size)
        self._windows[model_version] = window  # now the most recent
        window.append(category == label)
        while len(self._windows) > self.versions:
            self._forget(next(iter(self._windows)))
        metrics = self.metrics
        metrics.prediction_window_feedback.labels(model_version).set(len(window))
        metrics.prediction_window_accuracy.labels(model_version).set(sum(window) / len(window))

    def _forget(self, version: str) -> None:
        del self._windows[version]
        metrics = self.metrics
        if metrics.multiprocess:  # prometheus_client cannot remove a series there
            return
        for gauge in (metrics.prediction_window_feedback, metrics.prediction_window_accuracy):
            with contextlib.suppress(KeyError):  # a version that had no feedback
                gauge.remove(version)
