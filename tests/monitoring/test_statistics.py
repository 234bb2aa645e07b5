"""The drift statistics on numbers small enough to check by hand."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from newsapi.monitoring.statistics import (
    PSI_FLOOR,
    bin_shares,
    category_mix,
    compare_distributions,
    decile_edges,
    over_time,
    psi,
)


def test_psi_is_the_sum_of_share_differences_times_their_log_ratios() -> None:
    assert psi(np.array([0.5, 0.5]), np.array([0.7, 0.3])) == pytest.approx(
        0.2 * math.log(0.7 / 0.5) + (-0.2) * math.log(0.3 / 0.5)
    )
    assert psi(np.array([0.25] * 4), np.array([0.25] * 4)) == 0.0


def test_an_empty_bin_counts_as_the_floor_share_not_as_infinity() -> None:
    value = psi(np.array([1.0, 0.0]), np.array([0.5, 0.5]))
    expected = (0.5 - 1.0) * math.log(0.5 / 1.0) + (0.5 - PSI_FLOOR) * math.log(0.5 / PSI_FLOOR)
    assert value == pytest.approx(expected)
    assert math.isfinite(value)


def test_the_mix_expects_the_references_shares_of_the_live_total() -> None:
    mix = category_mix(["a"] * 30 + ["b"] * 10, ["a", "b"] * 50, ["a", "b"])
    assert mix.expected.tolist() == [20.0, 20.0]
    assert mix.observed.tolist() == [30.0, 10.0]
    assert mix.chi_square == pytest.approx(10.0)  # (30-20)²/20 + (10-20)²/20
    assert mix.p_value == pytest.approx(math.erfc(math.sqrt(10.0 / 2)))  # chi-square, 1 dof
    assert mix.psi == pytest.approx(psi(np.array([0.5, 0.5]), np.array([0.75, 0.25])))
    assert mix.largest_change() == ("a", 0.75, 0.5)


def test_the_same_mix_is_no_change_at_all() -> None:
    mix = category_mix(["a", "b", "b", "c"] * 10, ["a", "b", "b", "c"] * 25, ["a", "b", "c"])
    assert mix.chi_square == pytest.approx(0.0)
    assert mix.p_value == pytest.approx(1.0)
    assert mix.psi == pytest.approx(0.0)


def test_a_category_the_reference_never_gave_is_a_large_but_finite_chi_square() -> None:
    mix = category_mix(["a"] * 9 + ["c"], ["a", "b"] * 10, ["a", "b", "c"])
    assert mix.reference_share.tolist() == [0.5, 0.5, 0.0]
    assert mix.expected.sum() == pytest.approx(10.0)
    assert math.isfinite(mix.chi_square)
    assert mix.chi_square > 1000
    assert mix.p_value < 1e-100


def test_deciles_merge_where_values_tie_and_bins_take_their_lower_edge() -> None:
    reference = np.array([0.0] * 90 + [1.0] * 10)
    edges = decile_edges(reference)
    # eight deciles are 0; the ninth lies a tenth of the way from the 90th value to the 91st
    assert edges.tolist() == pytest.approx([0.0, 0.1])
    # below 0; [0, 0.1); [0.1, ...)
    assert bin_shares(np.array([-1.0, 0.0, 0.05, 0.2, 0.5]), edges).tolist() == [
        0.2, 0.4, 0.4
    ]  # fmt: skip


def test_a_sample_against_itself_and_against_a_shifted_copy() -> None:
    reference = np.arange(1000, dtype=float)  # whole numbers: no rounding in the shift
    same = compare_distributions(reference.copy(), reference)
    assert same.ks_statistic == 0.0
    assert same.ks_p_value == pytest.approx(1.0)
    assert same.psi == pytest.approx(0.0)
    assert same.live_median == same.reference_median == 499.5

    shifted = compare_distributions(reference + 500, reference)
    assert shifted.ks_statistic == 0.5
    assert shifted.ks_p_value < 1e-50
    # deciles 99.9 ... 899.1: the shifted values fill [499.5, 899.1) a tenth per bin and
    # 0.6 above
    expected_psi = 5 * (PSI_FLOOR - 0.1) * math.log(PSI_FLOOR / 0.1) + 0.5 * math.log(6)
    assert shifted.psi == pytest.approx(expected_psi)
    assert shifted.live_share.tolist() == pytest.approx([0] * 5 + [0.1] * 4 + [0.6])


def test_missing_values_are_left_out() -> None:
    compared = compare_distributions(np.array([np.nan, 0.2, 0.4]), np.array([0.2, np.nan, 0.4]))
    assert compared.live_n == compared.reference_n == 2
    assert compared.live_mean == pytest.approx(0.3)


def test_buckets_split_the_window_in_equal_spans_and_average_what_falls_in_each() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    end = start + timedelta(hours=3)
    times = [start, start + timedelta(minutes=30), start + timedelta(hours=1, minutes=5),
             start + timedelta(hours=2), end, end + timedelta(seconds=1)]  # fmt: skip
    values = np.array([0.1, 0.3, np.nan, 0.5, 0.7, 0.9])
    buckets = over_time(times, values, start, end, 3)
    assert [b.start for b in buckets] == [start + timedelta(hours=h) for h in range(3)]
    assert [b.records for b in buckets] == [2, 0, 2]  # NaN and after the end: left out
    assert buckets[0].mean == pytest.approx(0.2)
    assert buckets[1].mean is None
    assert buckets[2].mean == pytest.approx(0.6)  # the end itself is in the last bucket


def test_a_window_of_one_instant_is_one_bucket_and_bad_windows_are_refused() -> None:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    buckets = over_time([moment, moment], np.array([0.2, 0.4]), moment, moment, 4)
    assert buckets[0].records == 2
    assert buckets[0].mean == pytest.approx(0.3)
    with pytest.raises(ValueError, match="buckets must be at least 1"):
        over_time([], np.array([]), moment, moment, 0)
    with pytest.raises(ValueError, match="ends"):
        over_time([], np.array([]), moment, moment - timedelta(1), 2)
