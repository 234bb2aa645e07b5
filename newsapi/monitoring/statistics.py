"""The drift statistics: each a function of numbers, so that a test can check it by hand.

- :func:`category_mix`: the live predicted categories against the reference's predicted mix
  (Pearson's chi-square test, expected counts from the reference's shares) and the mix's
  population stability index;
- :func:`compare_distributions`: a live sample of a number (confidence, out-of-vocabulary
  share, length) against the reference's: the two-sample Kolmogorov-Smirnov test and the
  population stability index over the reference's deciles;
- :func:`over_time`: the mean of a number per time bucket of the window.

A test answers "could this be chance?" and a large sample makes any difference significant;
the PSI answers "is the difference large?" and a small sample makes it noisy. The verdict
(:mod:`newsapi.monitoring.verdict`) asks for both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from scipy import stats

#: bins of the PSI of a number: the reference's deciles, the convention of credit scoring,
#: where the PSI comes from (fewer when values tie, as the many texts without an unknown
#: word do)
PSI_BINS = 10
#: the share an empty bin counts as: ln(0) has no value, and a bin empty on one side only
#: must still count as a large difference, not an infinite one
PSI_FLOOR = 1e-4


def psi(reference_share: np.ndarray, live_share: np.ndarray, floor: float = PSI_FLOOR) -> float:
    """The population stability index: the sum over bins of (live - reference) times
    ln(live / reference), each share at least ``floor``."""
    expected = np.maximum(np.asarray(reference_share, dtype=float), floor)
    actual = np.maximum(np.asarray(live_share, dtype=float), floor)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


@dataclass(frozen=True)
class MixComparison:
    """The live predicted-category counts against what the reference's mix expects."""

    categories: list[str]
    observed: np.ndarray  #: live counts per category
    expected: np.ndarray  #: the reference's shares times the live total
    reference_share: np.ndarray
    live_share: np.ndarray
    chi_square: float
    p_value: float
    psi: float

    def largest_change(self) -> tuple[str, float, float]:
        """The category whose share moved most: its name, live share, reference share."""
        i = int(np.argmax(np.abs(self.live_share - self.reference_share)))
        return self.categories[i], float(self.live_share[i]), float(self.reference_share[i])


def category_mix(
    live: Sequence[str], reference: Sequence[str], categories: Sequence[str]
) -> MixComparison:
    """Compare the live predicted categories with the reference's (both among
    ``categories``). A category the reference never predicted expects
    :data:`PSI_FLOOR` of the traffic rather than none: seeing it at all is then a large
    chi-square, not an infinite one."""
    names = list(categories)
    index = {name: i for i, name in enumerate(names)}
    observed = _counts([index[c] for c in live], len(names))
    counts = _counts([index[c] for c in reference], len(names))
    if observed.sum() == 0 or counts.sum() == 0:
        raise ValueError("category_mix needs at least one live and one reference category")
    reference_share = counts / counts.sum()
    floored = np.maximum(reference_share, PSI_FLOOR)
    expected = floored / floored.sum() * observed.sum()
    result = stats.chisquare(observed, expected)
    live_share = observed / observed.sum()
    return MixComparison(
        categories=names,
        observed=observed,
        expected=expected,
        reference_share=reference_share,
        live_share=live_share,
        chi_square=float(result.statistic),
        p_value=float(result.pvalue),
        psi=psi(reference_share, live_share),
    )


def _counts(indexes: list[int], length: int) -> np.ndarray:
    return np.bincount(np.array(indexes, dtype=int), minlength=length).astype(float)


@dataclass(frozen=True)
class DistributionComparison:
    """A live sample of one number against the reference's sample of it."""

    live_n: int
    reference_n: int
    live_median: float
    reference_median: float
    live_mean: float
    reference_mean: float
    ks_statistic: float
    ks_p_value: float
    psi: float
    edges: np.ndarray  #: the PSI bins' inner edges (the reference's distinct deciles)
    reference_share: np.ndarray  #: share of the reference in each bin
    live_share: np.ndarray


def decile_edges(reference: np.ndarray, bins: int = PSI_BINS) -> np.ndarray:
    """The inner edges of ``bins`` bins holding equal parts of ``reference``; tied
    quantiles merge their bins."""
    quantiles = np.quantile(reference, np.arange(1, bins) / bins)
    return np.unique(quantiles)


def bin_shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The share of ``values`` in each bin: below the first edge, then each edge up to the
    next (its lower edge included), then from the last edge up."""
    which = np.searchsorted(edges, values, side="right")
    return np.bincount(which, minlength=len(edges) + 1) / max(1, len(values))


def compare_distributions(
    live: np.ndarray, reference: np.ndarray, bins: int = PSI_BINS
) -> DistributionComparison:
    """Compare two samples of a number (missing values, NaN, left out)."""
    live = _present(live)
    reference = _present(reference)
    if len(live) == 0 or len(reference) == 0:
        raise ValueError("compare_distributions needs at least one live and one reference value")
    edges = decile_edges(reference, bins)
    reference_share, live_share = bin_shares(reference, edges), bin_shares(live, edges)
    ks = stats.ks_2samp(live, reference)
    return DistributionComparison(
        live_n=len(live),
        reference_n=len(reference),
        live_median=float(np.median(live)),
        reference_median=float(np.median(reference)),
        live_mean=float(np.mean(live)),
        reference_mean=float(np.mean(reference)),
        ks_statistic=float(ks.statistic),
        ks_p_value=float(ks.pvalue),
        psi=psi(reference_share, live_share),
        edges=edges,
        reference_share=reference_share,
        live_share=live_share,
    )


def _present(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    present: np.ndarray = values[~np.isnan(values)]
    return present


@dataclass(frozen=True)
class Bucket:
    """One time bucket of the window: ``[start, end)``, the last one ``[start, end]``."""

    start: datetime
    end: datetime
    records: int  #: records with a value in it
    mean: float | None  #: None when it holds none


def over_time(
    times: Sequence[datetime], values: np.ndarray, start: datetime, end: datetime, buckets: int
) -> list[Bucket]:
    """The mean of ``values`` (NaN: missing) in each of ``buckets`` equal spans from
    ``start`` to ``end``."""
    if buckets < 1:
        raise ValueError(f"buckets must be at least 1, not {buckets}")
    if end < start:
        raise ValueError(f"the window ends ({end}) before it starts ({start})")
    values = np.asarray(values, dtype=float)
    span = (end - start) / buckets if end > start else timedelta(0)
    seconds = span.total_seconds()
    sums, counts = np.zeros(buckets), np.zeros(buckets, dtype=int)
    for when, value in zip(times, values, strict=True):
        if np.isnan(value) or not start <= when <= end:
            continue
        i = min(buckets - 1, int((when - start).total_seconds() / seconds)) if seconds else 0
        sums[i] += value
        counts[i] += 1
    return [
        Bucket(
            start=start + span * i,
            end=start + span * (i + 1),
            records=int(counts[i]),
            mean=float(sums[i] / counts[i]) if counts[i] else None,
        )
        for i in range(buckets)
    ]
