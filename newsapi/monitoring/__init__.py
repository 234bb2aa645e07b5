"""Drift: does the traffic the served model answers still look like what it was made for?

The reviewer's side of the prediction log (:mod:`newsapi.serving.predlog`): a window of the
log (:mod:`.window`) against the model's own test split measured the same way
(:mod:`.reference`), through the statistics of :mod:`.statistics` and a domain classifier
(:mod:`.domain`), summed up in a verdict (:mod:`.verdict`) by :func:`drift_report`
(:mod:`.report`), and put in words for ``06_monitor.ipynb`` (:mod:`.words`). :mod:`.demo`
writes a small deterministic log to try it on.

The layer sits beside :mod:`newsapi.training`: it reads the model, its corpus, and the log's
reader and measures; it never imports HTTP, the command line, jobs or scoring.
"""

from newsapi.monitoring.reference import Reference, build_reference, corpus_of
from newsapi.monitoring.report import DriftReport, drift_report
from newsapi.monitoring.verdict import Thresholds, Verdict
from newsapi.monitoring.window import MonitorError, Window, read_window

__all__ = [
    "DriftReport",
    "MonitorError",
    "Reference",
    "Thresholds",
    "Verdict",
    "Window",
    "build_reference",
    "corpus_of",
    "drift_report",
    "read_window",
]
