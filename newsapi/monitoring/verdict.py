"""The verdict: which statistics say the traffic drifted, in one sentence with their numbers.

Each threshold is a named default of :class:`Thresholds`, and here is why:

- :data:`P_VALUE` 0.01: a report runs four tests (mix, confidence, out-of-vocabulary share,
  length); were they independent, in-distribution traffic would fail one of them by chance
  in 1 - 0.99⁴, about 4%, of the reports at 0.01, against 19% at 0.05;
- :data:`PSI_LIMIT` 0.2: the population stability index's usual reading (under 0.1 stable,
  0.1 to 0.2 a moderate shift, above 0.2 a shift to act on);
- a statistic drifts only when both say so: the test that the difference is no accident, the
  PSI that it is large (with thousands of records a test finds any difference significant;
  with tens the PSI of a few bins is noise);
- :data:`AUC_LIMIT` 0.75: a domain classifier tells two samples of the same traffic apart at
  an AUC near 0.5, while posts of the same newsgroups from later weeks (the test split
  against the training split) already come close to 0.75: topics and threads come and go.
  Above it, the texts differ by more than their period (docs/monitor.md gives the figures);
- :data:`MIN_RECORDS` 50: fewer records make every statistic too uncertain to say anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from newsapi.monitoring.domain import DomainClassifier
from newsapi.monitoring.statistics import DistributionComparison, MixComparison

P_VALUE = 0.01
PSI_LIMIT = 0.2
AUC_LIMIT = 0.75
MIN_RECORDS = 50
NO_DRIFT = "no drift detected"
# what each finding is about, as the sentence names it
MIX = "the category mix"
CONFIDENCE = "the confidence"
OOV = "the out-of-vocabulary share"
LENGTHS = "the text lengths"
TEXTS = "the texts"


@dataclass(frozen=True)
class Thresholds:
    """When a statistic counts as drift (the module's docstring says why these values)."""

    p_value: float = P_VALUE
    psi: float = PSI_LIMIT
    auc: float = AUC_LIMIT
    min_records: int = MIN_RECORDS


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Finding:
    """One statistic's reading: what it is about, whether it drifted, and its numbers."""

    what: str
    drifted: bool
    numbers: str
    #: why, for a statistic read by a test and a PSI: whether each crossed its threshold
    #: (None for the domain classifier, read by its AUC alone)
    significant: bool | None = None
    large: bool | None = None


def mix_finding(mix: MixComparison, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Finding:
    """The predicted-category mix: chi-square p-value and PSI."""
    name, live, reference = mix.largest_change()
    numbers = (
        f"chi-square p = {mix.p_value:.2g}, PSI {mix.psi:.2f} "
        f"({name} {live:.0%} of the answers against {reference:.0%})"
    )
    return _tested(MIX, mix.p_value, mix.psi, numbers, thresholds)


def _tested(what: str, p_value: float, psi: float, numbers: str, thresholds: Thresholds) -> Finding:
    """A statistic read by a test and a PSI: it drifts only when both cross their thresholds."""
    significant, large = p_value < thresholds.p_value, psi > thresholds.psi
    return Finding(what, significant and large, numbers, significant, large)


def distribution_finding(
    what: str,
    comparison: DistributionComparison,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    digits: int = 2,
) -> Finding:
    """A number's distribution: KS p-value, PSI and the medians."""
    c = comparison
    numbers = (
        f"KS p = {c.ks_p_value:.2g}, PSI {c.psi:.2f} (median {c.live_median:.{digits}f} "
        f"against {c.reference_median:.{digits}f})"
    )
    return _tested(what, c.ks_p_value, c.psi, numbers, thresholds)


def oov_finding(
    comparison: DistributionComparison, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> Finding:
    """The out-of-vocabulary share: as :func:`distribution_finding`, with means (most texts
    share one median, a low share)."""
    c = comparison
    numbers = (
        f"KS p = {c.ks_p_value:.2g}, PSI {c.psi:.2f} (mean {c.live_mean:.1%} of the tokens "
        f"against {c.reference_mean:.1%})"
    )
    return _tested(OOV, c.ks_p_value, c.psi, numbers, thresholds)


def domain_finding(
    domain: DomainClassifier, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> Finding:
    """The domain classifier's ROC AUC."""
    drifted = domain.auc > thresholds.auc
    terms = ", ".join(domain.live_terms[:5])
    numbers = f"a classifier tells live texts from reference ones at ROC AUC {domain.auc:.2f}"
    if drifted:
        numbers += f" (live texts' marks: {terms})"
    return Finding(TEXTS, drifted, numbers)


@dataclass(frozen=True)
class Verdict:
    """Every finding of a window, and the sentence that sums them up."""

    records: int
    findings: list[Finding]
    thresholds: Thresholds = DEFAULT_THRESHOLDS

    @property
    def enough(self) -> bool:
        return self.records >= self.thresholds.min_records

    def finding(self, what: str) -> Finding | None:
        """The finding about ``what`` (:data:`MIX`, :data:`CONFIDENCE`...), if made."""
        return next((finding for finding in self.findings if finding.what == what), None)

    @property
    def drifted(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.drifted] if self.enough else []

    def sentence(self) -> str:
        """ "no drift detected", or "drift in <what>: <numbers>; ..." (or, with too few
        records, that there are too few)."""
        if not self.enough:
            return (
                f"too few records to judge: {self.records} in the window, "
                f"{self.thresholds.min_records} needed"
            )
        if not self.drifted:
            return NO_DRIFT
        return "drift in " + "; ".join(f"{f.what}: {f.numbers}" for f in self.drifted)
