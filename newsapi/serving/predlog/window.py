"""Sliding-window gauges: what a worker's last logged records say, per model version.

The writer's thread hands each batch of records it has measured to :class:`Windows`, which
keeps the last ``size`` records of each model version (a few numbers each, not the text) and
sets, per version, the share of each predicted category, the mean score (top probability or
margin) and the mean out-of-vocabulary share over them: an operator can alert on a shifted
category mix, falling confidence or rising unknown words without reading the files. Memory
is bounded: ``size`` records for each of the last ``versions`` model versions logged; an
older version's window and its series go.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from typing import Any

from newsapi.serving.metrics import Metrics

#: model versions kept: the one served and the one before a reload, whose requests may
#: still be logged while the new one serves
VERSIONS = 2

# (category, score kind, score, out-of-vocabulary share) of one record
Entry = tuple[str, str, float, float | None]


class Windows:
    """The last ``size`` records of each of the last :data:`VERSIONS` model versions logged,
    and the gauges computed over them (see the module's docstring)."""

    def __init__(self, metrics: Metrics, size: int, versions: int = VERSIONS) -> None:
        self.metrics = metrics
        self.size = size
        self.versions = versions
        self._windows: dict[str, deque[Entry]] = {}  # least recently logged first
        self._categories: dict[str, set[str]] = {}  # each version's categories with a series
        self._kinds: dict[str, set[str]] = {}

    def add(self, columns: Mapping[str, Sequence[Any]]) -> None:
        """Add records given as columns (one per field of
        :class:`~newsapi.serving.predlog.record.Record`, oldest first) and set the gauges of
        the versions they touch."""
        touched: list[str] = []
        fields = ("category", "score_kind", "score", "oov_share")
        entries = zip(*(columns[name] for name in fields), strict=True)
        for version, entry in zip(columns["model_version"], entries, strict=True):
            window = self._windows.get(version)
            if window is None or version not in touched:
                self._windows.pop(version, None)  # re-inserted: now the most recent
                if window is None:
                    window = deque(maxlen=self.size)
                    self._categories[version], self._kinds[version] = set(), set()
                self._windows[version] = window
                touched.append(version)
            window.append(entry)
        while len(self._windows) > self.versions:
            self._forget(next(iter(self._windows)))
        for version in touched:
            if version in self._windows:
                self._publish(version)

    def _publish(self, version: str) -> None:
        metrics, window = self.metrics, self._windows[version]
        metrics.prediction_window_records.labels(version).set(len(window))
        counts = Counter(category for category, _, _, _ in window)
        categories = self._categories[version]
        categories.update(counts)
        for category in categories:  # one that left the window goes to 0
            share = counts.get(category, 0) / len(window)
            metrics.prediction_window_category_share.labels(version, category).set(share)
        kinds = self._kinds[version]
        for kind in {kind for _, kind, _, _ in window} | kinds:
            scores = [score for _, k, score, _ in window if k == kind]
            mean = sum(scores) / len(scores) if scores else math.nan
            metrics.prediction_window_score.labels(version, kind).set(mean)
            kinds.add(kind)
        shares = [share for _, _, _, share in window if share is not None]
        oov = sum(shares) / len(shares) if shares else math.nan
        metrics.prediction_window_oov_share.labels(version).set(oov)

    def _forget(self, version: str) -> None:
        """Drop a version's window and its series (in multiprocess mode the shared files keep
        them; ``/metrics`` leaves out the versions no live worker serves)."""
        del self._windows[version]
        kinds, categories = self._kinds.pop(version), self._categories.pop(version)
        metrics = self.metrics
        if metrics.multiprocess:  # prometheus_client cannot remove a series there
            return
        for category in categories:
            metrics.prediction_window_category_share.remove(version, category)
        for kind in kinds:
            metrics.prediction_window_score.remove(version, kind)
        metrics.prediction_window_records.remove(version)
        metrics.prediction_window_oov_share.remove(version)
