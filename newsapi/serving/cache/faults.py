"""Disk-cache faults: joblib's own warnings silenced, since the cache reports its faults
itself (:class:`~newsapi.serving.faults.FaultLog`: counted every time, logged once per kind)."""

from __future__ import annotations

import warnings


def silence_joblib_cache_warnings() -> None:
    """Stop joblib's own warnings about entries it could not write or read.

    joblib reports a failed write with a ``warnings.warn`` whose text names the entry, so
    Python's "once per message" rule prints one per entry: a read-only cache folder logged
    hundreds a second. The disk tier's :class:`~newsapi.serving.faults.FaultLog` reports
    those faults instead (counted, logged once per kind). A process-wide filter: called once,
    at start-up.
    """
    from joblib.memory import CacheWarning

    warnings.filterwarnings("ignore", category=CacheWarning)
    warnings.filterwarnings("ignore", message="Unable to cache to disk")
    warnings.filterwarnings("ignore", message="Unable to write")
    warnings.filterwarnings("ignore", message="Persisting input arguments")
