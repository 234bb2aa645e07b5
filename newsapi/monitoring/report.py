"""The drift report of one window against the reference: every statistic and the verdict.

``06_monitor.ipynb`` shows it; the tests check it on real traffic. The reference is first
cut down to the posts the window does not contain (matched by digest), so that traffic
replaying test posts is never compared with itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from newsapi.monitoring.domain import MIN_TEXTS, DomainClassifier, domain_classifier
from newsapi.monitoring.reference import Reference
from newsapi.monitoring.statistics import (
    Bucket,
    DistributionComparison,
    MixComparison,
    category_mix,
    compare_distributions,
    over_time,
)
from newsapi.monitoring.verdict import (
    CONFIDENCE,
    DEFAULT_THRESHOLDS,
    LENGTHS,
    Finding,
    Thresholds,
    Verdict,
    distribution_finding,
    domain_finding,
    mix_finding,
    oov_finding,
)
from newsapi.monitoring.window import MonitorError, Window

BUCKETS = 12


@dataclass(frozen=True)
class DriftReport:
    """One window's statistics against the reference, and their verdict."""

    window: Window
    reference: Reference  #: the posts compared with: the test split less the window's
    mix: MixComparison | None  #: None for an empty window (as the others)
    confidence: DistributionComparison | None
    oov: DistributionComparison | None  #: also None when no live text had a token
    lengths: DistributionComparison | None
    oov_over_time: list[Bucket]
    domain: DomainClassifier | None  #: None when the log kept too few texts
    verdict: Verdict


def drift_report(
    window: Window,
    reference: Reference,
    *,
    buckets: int = BUCKETS,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> DriftReport:
    """Compare ``window`` with ``reference`` (the same model's: checked)."""
    if window.model_version != reference.model_version:
        raise MonitorError(
            f"the window holds model {window.model_version}'s answers and the reference is "
            f"model {reference.model_version}'s: build the reference from the same model"
        )
    reference = reference.without(set(window.digests))
    oov_over_time = over_time(window.times, window.oov_shares, window.start, window.end, buckets)
    if len(window) == 0 or len(reference) == 0:
        return DriftReport(
            window, reference, None, None, None, None, oov_over_time, None,
            Verdict(len(window), [], thresholds),
        )  # fmt: skip
    mix = category_mix(window.categories, reference.categories, reference.target_names)
    confidence = compare_distributions(window.scores, reference.scores)
    lengths = compare_distributions(window.text_chars, reference.text_chars)
    findings: list[Finding] = [
        mix_finding(mix, thresholds),
        distribution_finding(CONFIDENCE, confidence, thresholds),
    ]
    oov = None
    if (~np.isnan(window.oov_shares)).any():  # else no text had a token
        oov = compare_distributions(window.oov_shares, reference.oov_shares)
        findings.append(oov_finding(oov, thresholds))
    findings.append(distribution_finding(LENGTHS, lengths, thresholds, digits=0))
    domain = None
    if min(len(window.texts), len(reference.texts)) >= MIN_TEXTS:
        domain = domain_classifier(window.texts, reference.texts)
        findings.append(domain_finding(domain, thresholds))
    return DriftReport(
        window=window,
        reference=reference,
        mix=mix,
        confidence=confidence,
        oov=oov,
        lengths=lengths,
        oov_over_time=oov_over_time,
        domain=domain,
        verdict=Verdict(len(window), findings, thresholds),
    )
