"""The findings in words: which of the two readings held a statistic back."""

from __future__ import annotations

from newsapi.monitoring.domain import DomainClassifier
from newsapi.monitoring.statistics import category_mix
from newsapi.monitoring.verdict import Thresholds, domain_finding, mix_finding
from newsapi.monitoring.words import reading

REFERENCE = ["a", "b"] * 500


def sentence(live: list[str]) -> str:
    return reading(mix_finding(category_mix(live, REFERENCE, ["a", "b"])))


def test_each_combination_of_test_and_size_reads_as_what_it_is() -> None:
    drifted = sentence(["a"] * 800 + ["b"] * 200)
    assert drifted.startswith("The category mix drifted: chi-square p = ")
    assert drifted.endswith("; the difference is no accident (p < 0.01) and is large (PSI > 0.2).")
    small = sentence(["a"] * 52_000 + ["b"] * 48_000)
    assert small.startswith("The category mix did not drift: ")
    assert small.endswith("is no accident (p < 0.01) but is small (PSI ≤ 0.2).")
    few = sentence(["a"] * 4 + ["b"])
    assert few.endswith("could be chance (p ≥ 0.01) but is large (PSI > 0.2).")
    same = sentence(["a", "b"] * 100)
    assert same.endswith("could be chance (p ≥ 0.01) and is small (PSI ≤ 0.2).")


def test_the_thresholds_read_are_the_ones_given_and_the_auc_reads_alone() -> None:
    strict = Thresholds(p_value=0.05, psi=0.1)
    assert "(p ≥ 0.05)" in reading(
        mix_finding(category_mix(["a", "b"] * 100, REFERENCE, ["a", "b"]), strict), strict
    )
    found = domain_finding(DomainClassifier(0.6, [0.6], 50, 50, ["x"], ["y"]))
    assert reading(found) == (
        "The texts did not drift: a classifier tells live texts from reference ones at "
        "ROC AUC 0.60."
    )
    assert reading(None) == ""
