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
from newsapi.serving.predlog.record import Column

#: model versions kept: the one served and the one before a reload, whose requests may
#: still be logged while the new one serves
VERSIONS = 2
#: the record fields a window keeps, one deque each (plain strings and numbers: no tuple per
#: record for the garbage collector to walk while it waits in the window)
FIELDS = ("category", "score_kind", "score", "oov_share")


class Window:
    """The last ``size`` records of one model version: a bounded deque per field of
    :data:`FIELDS`."""

    def __init__(self, size: int) -> None:
        self.categories: deque[str] = deque(maxlen=size)
        self.kinds: deque[str] = deque(maxlen=size)
        self.scores: deque[float] = deque(maxlen=size)
        self.oov_shares: deque[float | None] = deque(maxlen=size)
        self.fields: tuple[deque[Any], ...] = (self.categories, self.kinds, self.scores,
                                              self.oov_shares)  # fmt: skip
        self.seen_categories: set[str] = set()  # those with a series
        self.seen_kinds: set[str] = set()


class Windows:
    """The last ``size`` records of each of the last :data:`VERSIONS` model versions logged,
    and the gauges computed over them (see the module's docstring)."""

    def __init__(self, metrics: Metrics, size: int, versions: int = VERSIONS) -> None:
        self.metrics = metrics
        self.size = size
        self.versions = versions
        self._windows: dict[str, Window] = {}  # least recently logged first

    def add(self, columns: Mapping[str, Column]) -> None:
        """Add records given as columns (one per field of
        :class:`~newsapi.serving.predlog.record.Record`, oldest first) and set the gauges of
        the versions they touch."""
        versions = columns["model_version"]
        fields = [columns[name] for name in FIELDS]
        touched = list(dict.fromkeys(versions))  # in the order they were first logged
        for version in touched:
            window = self._windows.pop(version, None)  # re-inserted: now the most recent
            self._windows[version] = window = window or Window(self.size)
            if len(touched) == 1:  # one version in the batch, as between reloads
                values: Sequence[Column] = fields
            else:
                rows = [i for i, logged in enumerate(versions) if logged == version]
                values = [[field[i] for i in rows] for field in fields]
            for kept, new in zip(window.fields, values, strict=True):
                kept.extend(new)
        while len(self._windows) > self.versions:
            self._forget(next(iter(self._windows)))
        for version in touched:
            if version in self._windows:
                self._publish(version)

    def _publish(self, version: str) -> None:
        metrics, window = self.metrics, self._windows[version]
        size = len(window.categories)
        metrics.prediction_window_records.labels(version).set(size)
        counts = Counter(window.categories)
        categories = window.seen_categories
        categories.update(counts)
        for category in categories:  # one that left the window goes to 0
            share = counts.get(category, 0) / size
            metrics.prediction_window_category_share.labels(version, category).set(share)
        kinds = window.seen_kinds
        for kind in set(window.kinds) | kinds:
            scores = [score for k, score in zip(window.kinds, window.scores, strict=True)
                      if k == kind]  # fmt: skip
            mean = sum(scores) / len(scores) if scores else math.nan
            metrics.prediction_window_score.labels(version, kind).set(mean)
            kinds.add(kind)
        shares = [share for share in window.oov_shares if share is not None]
        oov = sum(shares) / len(shares) if shares else math.nan
        metrics.prediction_window_oov_share.labels(version).set(oov)

    def _forget(self, version: str) -> None:
        """Drop a version's window and its series (in multiprocess mode the shared files keep
        them; ``/metrics`` leaves out the versions no live worker serves)."""
        window = self._windows.pop(version)
        kinds, categories = window.seen_kinds, window.seen_categories
        metrics = self.metrics
        if metrics.multiprocess:  # prometheus_client cannot remove a series there
            return
        for category in categories:
            metrics.prediction_window_category_share.remove(version, category)
        for kind in kinds:
            metrics.prediction_window_score.remove(version, kind)
        metrics.prediction_window_records.remove(version)
        metrics.prediction_window_oov_share.remove(version)
