"""Label efficiency, crossings and ranking across sizes, on curves whose scores are set by
construction, so every number can be computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from adapteval.contracts.strategy import Predictions
from adapteval.results import Results
from adapteval.store import CellRow
from adapteval.suite.specs import BootstrapSpec
from adapteval.summaries.curves import size_to_reach

N_TEST = 200
Y_TRUE = np.arange(N_TEST) % 2


def _row(model: str, strategy: str, accuracies: list[float], size, draw: int = 0,
         n_train: int = 0, seed: int = 0) -> CellRow:
    """A stored cell whose experiment e has exactly ``accuracies[e]`` accuracy."""
    preds = []
    for acc in accuracies:
        y = Y_TRUE.copy()
        wrong = round((1 - acc) * N_TEST)
        y[:wrong] = 1 - y[:wrong]
        preds.append(y)
    p = Predictions(Y_TRUE, np.stack(preds), None, np.arange(N_TEST),
                    {"n_test": N_TEST, "n_train": n_train})
    config = {"name": strategy}
    if size != "full":
        config["curve"] = {"size": size, "draw": draw}
        p.info["curve_point"] = {"size": size, "draw": draw, "n_train": n_train}
    key = f"{model}-{strategy}-{size}-{draw}-{seed}"
    return CellRow(key, "t", model, "task", strategy, seed, model, "task-fp", config, "binary",
                   ["0", "1"], "0", 0.0, 0.0, p.info, p.to_bytes())


def _results(rows: list[CellRow]) -> Results:
    return Results(rows, metrics=["accuracy"], bootstrap=BootstrapSpec(n_resamples=200))


# per label: 2, 4, 8, 16 items (x2 labels), full = 100 items; each size has 2 draws
CURVE = {2: [0.50, 0.50], 4: [0.55, 0.65], 8: [0.80, 0.80], 16: [0.90, 0.90]}


def _curve_rows(model: str = "m", strategy: str = "probe", curve=CURVE, full=0.9):
    rows = [_row(model, strategy, [acc], size, d, n_train=2 * size)
            for size, accs in curve.items() for d, acc in enumerate(accs)]
    return [*rows, _row(model, strategy, [full], "full", n_train=100)]


def test_size_to_reach_interpolates_on_the_log_size_axis():
    # target 0.855 first reached between 16 items (0.8) and 32 items (0.9)
    xs, values = np.array([4, 8, 16, 32, 100]), np.array([0.5, 0.6, 0.8, 0.9, 0.9])
    by_hand = math.exp(math.log(16) + (0.855 - 0.8) / (0.9 - 0.8) * (math.log(32) - math.log(16)))
    assert size_to_reach(xs, values, 0.855) == pytest.approx(by_hand)
    assert by_hand == pytest.approx(16 * 2 ** 0.55)
    assert size_to_reach(xs, values, 0.4) == 4  # reached at the smallest size
    assert math.isnan(size_to_reach(xs, values, 0.95))  # never reached


def test_95_percent_size_from_stored_cells_equals_the_hand_computation():
    eff = _results(_curve_rows()).curves().efficiency.iloc[0]
    assert eff["full"] == pytest.approx(0.9)
    # 95 % of 0.9 = 0.855: between 16 items (mean 0.80) and 32 items (0.90)
    by_hand = math.exp(math.log(16) + (0.855 - 0.80) / 0.10 * math.log(2))
    assert eff["size_95"] == pytest.approx(by_hand)
    # 90 % = 0.81: the same segment; 99 % = 0.891 likewise
    assert eff["size_90"] == pytest.approx(math.exp(math.log(16) + 0.1 * math.log(2)))
    assert eff["size_99"] == pytest.approx(math.exp(math.log(16) + 0.91 * math.log(2)))
    # the interval comes from re-drawing the draws: it holds the point and is not empty
    assert eff["size_95_low"] <= eff["size_95"] <= eff["size_95_high"]
    # size 4 has draws 0.55 and 0.65: the 90 % size of a resample never leaves [16, 32]
    assert 16 <= eff["size_90_low"] <= eff["size_90_high"] <= 32


def test_points_carry_mean_spread_and_every_draw():
    pts = _results(_curve_rows()).curves().points
    four = pts[pts["size"] == "4"].iloc[0]
    assert four["value"] == pytest.approx(0.60)
    assert four["spread"] == pytest.approx(np.std([0.55, 0.65], ddof=1))
    assert four["draw_values"] == pytest.approx([0.55, 0.65])
    assert four["n_train"] == 8 and four["per_label"] == 4
    full = pts[pts["size"] == "full"].iloc[0]
    assert full["draws"] == 1 and "spread" in full["undefined"]


def test_lower_is_better_or_zero_full_score_is_na_with_a_reason():
    rows = _curve_rows(full=0.0, curve={2: [0.0, 0.0]})
    eff = _results(rows).curves().efficiency.iloc[0]
    assert math.isnan(eff["size_95"])
    assert "not positive" in eff["undefined"]["size_95"]


def test_a_crossing_is_found_with_paired_significance_at_each_size():
    slow = {2: [0.50, 0.50], 4: [0.60, 0.60], 8: [0.95, 0.95]}
    fast = {2: [0.80, 0.80], 4: [0.82, 0.82], 8: [0.85, 0.85]}
    rows = _curve_rows("a", "probe", slow, full=0.95) + _curve_rows("b", "probe", fast, full=0.9)
    res = _results(rows)
    cross = res.curves().crossings
    assert len(cross) == 1
    c = cross.iloc[0]
    assert (c["from_size"], c["to_size"]) == ("4", "8")
    assert c["diff_before"] == pytest.approx(-0.22) and c["before_significant"]
    assert c["diff_after"] == pytest.approx(0.10) and c["after_significant"]
    ranking = res.curves().ranking
    assert list(ranking["size"]) == ["2", "4", "8", "full"]
    assert list(ranking["ranking"].iloc[0]) == ["b", "a"]
    assert list(ranking["ranking"].iloc[2]) == ["a", "b"]
    assert list(ranking["flip"]) == [False, False, True, False]
    # b is ahead of a in a separate tie group at 4, a ahead of b in a separate one at 8
    assert list(ranking["separable_flip"]) == [False, False, True, False]


def test_curve_points_stay_out_of_the_per_strategy_tables():
    res = _results(_curve_rows())
    assert len(res.rows) == 1 and len(res.curve_rows) == 8
    assert list(res.summary()["value"]) == [pytest.approx(0.9)]
