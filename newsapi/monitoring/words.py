"""The report's numbers in words, for the notebook: each sentence is computed from the
statistics it reads, so that it cannot say what the numbers do not. Each function takes the
whole report and says so when the window gave it nothing to read."""

from __future__ import annotations

import numpy as np

from newsapi.monitoring.report import DriftReport
from newsapi.monitoring.verdict import (
    CONFIDENCE,
    DEFAULT_THRESHOLDS,
    LENGTHS,
    MIX,
    OOV,
    TEXTS,
    Finding,
    Thresholds,
)

EMPTY = "No records in the window: nothing to compare."


def reading(finding: Finding | None, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> str:
    """The finding in a sentence, "<What> drifted: <numbers>; <why>." or "<What> did not
    drift: <numbers>; <why>.", the why saying which reading (the test, the PSI) crossed its
    threshold; "" for no finding."""
    if finding is None:
        return ""
    what = finding.what[0].upper() + finding.what[1:]
    state = "drifted" if finding.drifted else "did not drift"
    text = f"{what} {state}: {finding.numbers}"
    if finding.significant is None or finding.large is None:
        return text + "."
    p, psi = thresholds.p_value, thresholds.psi
    chance = f"is no accident (p < {p})" if finding.significant else f"could be chance (p ≥ {p})"
    size = f"large (PSI > {psi})" if finding.large else f"small (PSI ≤ {psi})"
    joint = "and" if finding.significant == finding.large else "but"
    return f"{text}; the difference {chance} {joint} is {size}."


def _reading(report: DriftReport, what: str) -> str:
    return reading(report.verdict.finding(what), report.verdict.thresholds)


def window(report: DriftReport) -> str:
    """What the window holds and what it is compared with."""
    w = report.window
    others = sum(w.other_versions.values())
    text = (
        f"{len(w)} records of model {w.model_version} from {w.start:%Y-%m-%d %H:%M} to "
        f"{w.end:%Y-%m-%d %H:%M} UTC (of {w.log_records} in the log"
    )
    text += f"; {others} of other models in the window left out)" if others else ")"
    kept = f"; {len(w.texts)} with their text" if w.texts else "; the log kept no texts"
    return f"{text}{kept}. The reference: {len(report.reference)} test posts not in the window."


def mix(report: DriftReport) -> str:
    """The finding about the predicted mix (its numbers name the category that moved most)."""
    if report.mix is None:
        return EMPTY
    return _reading(report, MIX)


def confidence(report: DriftReport) -> str:
    """How sure the model was, against the test split, and the finding."""
    c = report.confidence
    if c is None:
        return EMPTY
    what = "top probability" if report.reference.score_kind == "probability" else "margin"
    change = c.live_median - c.reference_median
    direction = "lower" if change < 0 else "higher"
    low = float(np.quantile(report.reference.scores, 0.1))
    below = float(np.mean(report.window.scores < low))
    return (
        f"The median {what} is {c.live_median:.2f} against {c.reference_median:.2f} on the "
        f"test split ({abs(change):.2f} {direction}); {below:.0%} of the answers score under "
        f"{low:.2f}, where the test split has its lowest tenth. "
        f"{_reading(report, CONFIDENCE)}"
    )


def oov(report: DriftReport) -> str:
    """The out-of-vocabulary share overall and from the first bucket to the last."""
    if report.mix is None:
        return EMPTY
    if report.oov is None:
        return "No logged text had a token: the out-of-vocabulary share is undefined."
    filled = [bucket for bucket in report.oov_over_time if bucket.mean is not None]
    text = (
        f"On average {report.oov.live_mean:.1%} of a text's tokens are outside the vocabulary, "
        f"against {report.oov.reference_mean:.1%} on the test split"
    )
    if len(filled) > 1:
        first, last = filled[0], filled[-1]
        text += (
            f"; {first.mean:.1%} in the first bucket with records ({first.start:%m-%d %H:%M}) "
            f"and {last.mean:.1%} in the last ({last.start:%m-%d %H:%M})"
        )
    return f"{text}. {_reading(report, OOV)}"


def lengths(report: DriftReport) -> str:
    """The median length against the test split's, and the finding."""
    n = report.lengths
    if n is None:
        return EMPTY
    return (
        f"The median text has {n.live_median:.0f} characters against "
        f"{n.reference_median:.0f} on the test split. {_reading(report, LENGTHS)}"
    )


def domain(report: DriftReport) -> str:
    """The domain classifier's AUC and terms, or why there is none."""
    d = report.domain
    if d is None:
        return (
            f"The window holds {len(report.window.texts)} texts: too few for a domain "
            "classifier (the log keeps them only with NEWSAPI_PREDICTION_LOG_TEXT=true)."
        )
    return (
        f"Fitted on {d.live_n} live and {d.reference_n} reference texts, a classifier tells "
        f"them apart at a cross-validated ROC AUC of {d.auc:.2f} (0.5: not at all; its "
        f"{len(d.fold_aucs)} folds {min(d.fold_aucs):.2f} to {max(d.fold_aucs):.2f}). The "
        f"terms that most mark a live text: {', '.join(d.live_terms)}; a reference text: "
        f"{', '.join(d.reference_terms)}. {_reading(report, TEXTS)}"
    )
