"""Reading a sweep's results: the top candidates, score curves, the manifest record, and the
chosen model against the promoted one, as rows and sentences computed from the numbers."""

from __future__ import annotations

from typing import Any

import numpy as np

from newsapi.model.params import CLASSIFIER_KINDS, DATA_FIELDS
from newsapi.training.plots import figure_png
from newsapi.training.sweep.search import SweepOutcome
from newsapi.training.sweep.spec import GRID_FIELDS, SweepSpec

#: the hyperparameter a score curve follows, per classifier
MAIN_PARAMETER = {name: kind.main_parameter for name, kind in CLASSIFIER_KINDS.items()}


def candidate_rows(outcome: SweepOutcome, spec: SweepSpec, top: int = 10) -> list[dict[str, Any]]:
    """The ``top`` candidates by rank: their varied parameters, whether they give
    probabilities (what ``?scores=true`` and the V2 ``scores`` output need), CV mean and
    spread, fit time."""
    results = outcome.cv_results
    varied = spec.varied()
    order = np.argsort(results["rank_test_score"], kind="stable")[:top]
    return [
        {
            "rank": int(results["rank_test_score"][i]),
            **{name: shown_value(results["params"][i], name) for name in varied},
            "probabilities": "yes" if gives_probabilities(results["params"][i]) else "no",
            "mean": float(results["mean_test_score"][i]),
            "std": float(results["std_test_score"][i]),
            "fit_s": float(results["mean_fit_time"][i]),
        }
        for i in order
    ]


def format_rows(rows: list[dict[str, Any]]) -> str:
    """Rows as an aligned text table (scores to 4 places, times to 2)."""
    if not rows:
        return "(no candidates)"
    header = list(rows[0])
    cells = [[_cell(name, row[name]) for name in header] for row in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in cells]
    return "\n".join(lines)


def verdict(outcome: SweepOutcome, spec: SweepSpec) -> str:
    """The winner, its CV score and spread, and whether the runner-up is really behind."""
    results = outcome.cv_results
    means = np.asarray(results["mean_test_score"], dtype=float)
    params = results["params"][outcome.best_index]
    chosen = {name: shown_value(params, name) for name in spec.varied()}
    chosen = {name: value for name, value in chosen.items() if value is not None}
    text = (
        f"The winner is {_describe(chosen)}: {spec.scoring} {outcome.best_score:.4f} "
        f"on average over {spec.cv} folds, spread (standard deviation) {outcome.best_std:.4f}."
    )
    if len(means) < 2:
        return text
    runner_up = float(np.sort(means)[-2])
    margin = outcome.best_score - runner_up
    close = int(np.sum(means >= outcome.best_score - outcome.best_std))
    if margin < outcome.best_std:
        return (
            f"{text} The runner-up is {margin:.4f} behind, less than that spread: "
            f"{close} candidates are within one standard deviation of the winner, so the folds "
            "do not separate them clearly; the test split below is the tie-breaker to read."
        )
    return f"{text} The runner-up is {margin:.4f} behind, more than the spread across folds."


def score_curves(outcome: SweepOutcome) -> dict[str, tuple[str, list[float], list[float]]]:
    """Per classifier: its main hyperparameter, the values tried, and the best CV score at
    each (the best over the other parameters varied)."""
    results = outcome.cv_results
    best: dict[str, dict[float, float]] = {}
    for params, score in zip(results["params"], results["mean_test_score"], strict=True):
        classifier = _value(params, "classifier")
        name = MAIN_PARAMETER[classifier]
        value = float(_value(params, name))
        seen = best.setdefault(classifier, {})
        seen[value] = max(seen.get(value, -np.inf), float(score))
    return {
        classifier: (
            MAIN_PARAMETER[classifier],
            sorted(values),
            [values[v] for v in sorted(values)],
        )
        for classifier, values in best.items()
    }


def plot_curves(outcome: SweepOutcome, scoring: str) -> bytes:
    """CV score against each classifier's main hyperparameter (log scale), one line each,
    as PNG bytes."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 3.6))
    axes = figure.add_subplot()
    for classifier, (name, values, scores) in score_curves(outcome).items():
        axes.plot(values, scores, marker="o", label=f"{classifier} ({name})")
    axes.set_xscale("log")
    axes.set_xlabel("alpha (naive Bayes, sgd) or C (linear_svc, logistic_regression)")
    axes.set_ylabel(f"{scoring} (mean over folds)")
    axes.legend(loc="lower left", fontsize="small")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    return figure_png(figure)


def test_against_cv(outcome: SweepOutcome, metrics: dict[str, Any], scoring: str) -> str:
    """How the winner's test score compares with what cross-validation promised."""
    key = {"f1_macro": "macro_f1", "accuracy": "accuracy"}.get(scoring)
    if key is None:
        return f"The test split reports accuracy and macro-F1; the folds scored {scoring}."
    gap = outcome.best_score - float(metrics[key])
    said = f"The test {key} is {abs(gap):.4f} {'below' if gap > 0 else 'above'} the folds' mean"
    if abs(gap) <= 2 * outcome.best_std:
        return f"{said}, within twice their spread: the folds predicted it well."
    if gap > 0:
        return (
            f"{said}, more than twice their spread: the test documents differ from the "
            "training ones more than the folds differ from each other (the 20 newsgroups' "
            "test split is later posts), so the test figure is the one to trust."
        )
    return f"{said}, more than twice their spread: the test split happens to be easier."


def sweep_record(outcome: SweepOutcome, spec: SweepSpec) -> dict[str, Any]:
    """What the winner's manifest keeps under ``sweep``."""
    return {
        **spec.record(),
        "best_cv_score": round(outcome.best_score, 6),
        "best_cv_std": round(outcome.best_std, 6),
        "random_state": spec.base.random_state,
    }


def side_by_side(chosen: dict[str, Any], promoted: dict[str, Any]) -> list[dict[str, Any]]:
    """Accuracy, macro-F1 and each category's F1 of two models on the same test split."""
    rows = [
        {"metric": name, "chosen": chosen[name], "promoted": promoted[name]}
        for name in ("accuracy", "macro_f1")
    ]
    for category, scores in chosen["per_class"].items():
        other = promoted["per_class"].get(category, {}).get("f1")
        rows.append({"metric": f"F1 {category}", "chosen": scores["f1"], "promoted": other})
    for row in rows:
        row["change"] = (
            round(row["chosen"] - row["promoted"], 6) if row["promoted"] is not None else None
        )
    return rows


def data_note(baseline_parameters: dict[str, Any], spec: SweepSpec) -> str | None:
    """A warning when the promoted model was trained on other data parameters than the sweep's
    (it is still measured on the sweep's test split, which is what it would serve)."""
    differ = {
        name: baseline_parameters.get(name)
        for name in DATA_FIELDS
        if name in baseline_parameters and baseline_parameters[name] != getattr(spec.base, name)
    }
    if not differ:
        return None
    was = ", ".join(f"{name} {value!r}" for name, value in differ.items())
    return f"Note: the promoted model was trained with other data parameters ({was})."


def promotion_advice(
    rows: list[dict[str, Any]],
    version: str,
    promoted_version: str,
    chosen: Any = None,
) -> str:
    """Whether promoting the chosen model looks worth it, read from :func:`side_by_side`;
    with the ``chosen`` parameters, also whether it would serve probabilities."""
    if version == promoted_version:
        return f"The chosen model {version} is already the promoted one."
    return _advice(rows, version, promoted_version) + (
        ""
        if chosen is None or gives_probabilities(dict(chosen))
        else " " + no_probabilities(dict(chosen))
    )


def gives_probabilities(params: Any) -> bool:
    """Whether a candidate's model has ``predict_proba``: its classifier does, or it is
    calibrated."""
    values = dict(params)
    classifier = _value(values, "classifier")
    return bool(_value(values, "calibrate")) or CLASSIFIER_KINDS[classifier].probabilities


def no_probabilities(params: dict[str, Any]) -> str:
    """What serving a model without probabilities means, and how to train one with them."""
    return (
        f"It gives no probabilities ({_value(params, 'classifier')}): served, it answers "
        "categories only and refuses scores; the same parameters with calibrate: true give "
        "them."
    )


def _advice(rows: list[dict[str, Any]], version: str, promoted_version: str) -> str:
    macro = next(row for row in rows if row["metric"] == "macro_f1")
    worse = [row["metric"][3:] for row in rows[2:] if (row["change"] or 0) < -0.01]
    lead = (
        f"On the test split the chosen model {version} scores macro-F1 {macro['chosen']:.4f} "
        f"against {macro['promoted']:.4f} for the promoted {promoted_version} "
        f"({macro['change']:+.4f})"
    )
    if macro["change"] > 0.005:
        caveat = f"; it is worse on {', '.join(worse)}" if worse else ""
        return f"{lead}: worth promoting{caveat} (`newsapi promote {version}`)."
    if macro["change"] < -0.005:
        return f"{lead}: keep the promoted model."
    return f"{lead}: about the same; promoting changes little."


def _describe(params: dict[str, Any]) -> str:
    return ", ".join(f"{name}={value}" for name, value in params.items()) or "the only candidate"


def shown_value(params: dict[str, Any], name: str) -> Any:
    """The candidate's value of ``name``, or None where its classifier does not use it."""
    if not CLASSIFIER_KINDS[_value(params, "classifier")].uses(name):
        return None
    return _value(params, name)


def _value(params: dict[str, Any], name: str) -> Any:
    from newsapi.model.params import DEFAULTS

    return params.get(name, getattr(DEFAULTS, name)) if name in GRID_FIELDS else params[name]


def _cell(name: str, value: Any) -> str:
    if value is None:
        return "-"
    if name == "fit_s":
        return f"{value:.2f}"
    if name == "change":
        return f"{value:+.4f}"
    if isinstance(value, float) and name in ("mean", "std", "chosen", "promoted"):
        return f"{value:.4f}"
    return str(value)
