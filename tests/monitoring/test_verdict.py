"""The verdict: a statistic drifts only when its test and its PSI both say so; the sentence
names what drifted with its numbers."""

from __future__ import annotations

import numpy as np

from newsapi.monitoring.domain import DomainClassifier
from newsapi.monitoring.statistics import category_mix, compare_distributions
from newsapi.monitoring.verdict import (
    CONFIDENCE,
    MIX,
    NO_DRIFT,
    Thresholds,
    Verdict,
    distribution_finding,
    domain_finding,
    mix_finding,
    oov_finding,
)

REFERENCE = ["a", "b"] * 500


def test_a_large_move_in_a_large_sample_drifts() -> None:
    finding = mix_finding(category_mix(["a"] * 800 + ["b"] * 200, REFERENCE, ["a", "b"]))
    assert finding.drifted
    assert finding.what == MIX
    assert finding.numbers.startswith("chi-square p = ")
    assert "PSI 0.42" in finding.numbers  # 0.3 ln(0.8 / 0.5) - 0.3 ln(0.2 / 0.5)
    assert "a 80% of the answers against 50%" in finding.numbers


def test_a_small_move_in_a_huge_sample_is_significant_but_holds() -> None:
    mix = category_mix(["a"] * 52_000 + ["b"] * 48_000, REFERENCE, ["a", "b"])
    assert mix.p_value < 1e-30
    assert not mix_finding(mix).drifted  # PSI 0.0016


def test_a_large_move_in_a_tiny_sample_holds() -> None:
    mix = category_mix(["a"] * 4 + ["b"], REFERENCE, ["a", "b"])
    assert mix.psi > 0.2
    assert mix.p_value > 0.01
    assert not mix_finding(mix).drifted


def test_distributions_read_both_the_ks_test_and_the_psi() -> None:
    reference = np.linspace(0.3, 1.0, 1000)
    lower = compare_distributions(np.linspace(0.25, 0.7, 400), reference)
    finding = distribution_finding(CONFIDENCE, lower)
    assert finding.drifted
    assert f"median {np.median(np.linspace(0.25, 0.7, 400)):.2f} against 0.65" in finding.numbers
    same = compare_distributions(reference[::3], reference)
    assert not distribution_finding(CONFIDENCE, same).drifted
    assert "mean" in oov_finding(same).numbers


def test_the_domain_classifier_drifts_above_its_auc_limit() -> None:
    found = DomainClassifier(0.9, [0.9] * 5, 100, 100, ["engine", "car"], ["god"])
    assert domain_finding(found).drifted
    assert "ROC AUC 0.90" in domain_finding(found).numbers
    assert "engine, car" in domain_finding(found).numbers
    assert not domain_finding(DomainClassifier(0.6, [0.6], 100, 100, [], [])).drifted
    strict = Thresholds(auc=0.55)
    assert domain_finding(DomainClassifier(0.6, [0.6], 100, 100, [], []), strict).drifted


def test_the_sentence_is_no_drift_or_names_each_drift_with_its_numbers() -> None:
    drifted = mix_finding(category_mix(["a"] * 800 + ["b"] * 200, REFERENCE, ["a", "b"]))
    held = mix_finding(category_mix(["a", "b"] * 100, REFERENCE, ["a", "b"]))
    assert Verdict(200, [held]).sentence() == NO_DRIFT
    sentence = Verdict(1000, [held, drifted]).sentence()
    assert sentence == f"drift in the category mix: {drifted.numbers}"
    assert Verdict(1000, [held, drifted]).drifted == [drifted]


def test_too_few_records_say_so_instead_of_judging() -> None:
    drifted = mix_finding(category_mix(["a"] * 800 + ["b"] * 200, REFERENCE, ["a", "b"]))
    verdict = Verdict(49, [drifted])
    assert verdict.sentence() == "too few records to judge: 49 in the window, 50 needed"
    assert verdict.drifted == []
