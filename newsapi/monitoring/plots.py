"""The report's figures (matplotlib, imported on use). Each returns a Figure built without
pyplot, so that a notebook cell shows it once, as its value; None for an empty window."""

from __future__ import annotations

from typing import Any

import numpy as np

from newsapi.monitoring.report import DriftReport

LIVE, REFERENCE = "the window", "the test split"


def _figure(height: float = 3.0) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, height))
    return figure, figure.add_subplot()


def mix(report: DriftReport) -> Any:
    """The share of each category in the window's answers, the test split's answers and the
    training split's labels."""
    m = report.mix
    if m is None:
        return None
    figure, axes = _figure(0.5 * len(m.categories) + 1.5)
    positions = np.arange(len(m.categories))
    train = [report.reference.train_share.get(name, 0.0) for name in m.categories]
    axes.barh(positions - 0.27, m.live_share, height=0.27, label=f"answers, {LIVE}")
    axes.barh(positions, m.reference_share, height=0.27, label=f"answers, {REFERENCE}")
    axes.barh(positions + 0.27, train, height=0.27, label="labels, the training split")
    axes.set_yticks(positions, m.categories)
    axes.invert_yaxis()
    axes.set_xlabel("share")
    axes.legend(fontsize="small")
    figure.tight_layout()
    return figure


def _densities(axes: Any, live: np.ndarray, reference: np.ndarray, bins: Any) -> None:
    live, reference = live[~np.isnan(live)], reference[~np.isnan(reference)]
    axes.hist(reference, bins=bins, density=True, alpha=0.5, label=REFERENCE)
    axes.hist(live, bins=bins, density=True, alpha=0.5, label=LIVE)
    axes.set_ylabel("density")
    axes.legend(fontsize="small")


def confidence(report: DriftReport) -> Any:
    """The distribution of the top probability (or margin), window against test split."""
    if report.confidence is None:
        return None
    figure, axes = _figure()
    probability = report.reference.score_kind == "probability"
    bins = np.linspace(0, 1, 21) if probability else 30
    _densities(axes, report.window.scores, report.reference.scores, bins)
    axes.set_xlabel("top probability" if probability else "margin")
    figure.tight_layout()
    return figure


def oov(report: DriftReport) -> Any:
    """The mean out-of-vocabulary share per time bucket, and the test split's mean."""
    if report.oov is None:
        return None
    figure, axes = _figure()
    filled = [b for b in report.oov_over_time if b.mean is not None]
    axes.plot([b.start for b in filled], [b.mean for b in filled], marker="o", label=LIVE)
    axes.axhline(report.oov.reference_mean, color="tab:gray", linestyle="--", label=REFERENCE)
    axes.set_ylabel("out-of-vocabulary share")
    axes.set_ylim(bottom=0)
    axes.tick_params(axis="x", rotation=30)
    axes.legend(fontsize="small")
    figure.tight_layout()
    return figure


def lengths(report: DriftReport) -> Any:
    """The distribution of text lengths (characters, log scale)."""
    if report.lengths is None:
        return None
    figure, axes = _figure()
    live = np.log10(np.maximum(report.window.text_chars, 1))
    reference = np.log10(np.maximum(report.reference.text_chars, 1))
    _densities(axes, live, reference, np.linspace(0, max(5.0, live.max(initial=0)), 31))
    axes.set_xlabel("characters (log10)")
    figure.tight_layout()
    return figure
