"""Learning-curve cells: keyed by content, the full-size point is the plain cell, one
feature pass serves the whole curve, bad sizes are refused in one line."""

from __future__ import annotations

import numpy as np
import pytest

import adapteval
from adapteval.core.errors import ConfigError
from adapteval.features import needed_items
from adapteval.plan import build_plan
from adapteval.strategies.curve import CurvePoint, subset
from adapteval.suite.schema import suite_from_dict

CURVE = {"sizes": [1, 4, 16, "full"], "draws": 3}


def _suite(tmp_path, strategies, models=("tfidf",), tasks=("sentiment-yelp",)):
    return suite_from_dict({"name": "curve", "models": list(models), "baselines": [],
                            "tasks": list(tasks), "strategies": strategies,
                            "bootstrap": {"n_resamples": 200},
                            "output_dir": str(tmp_path / "out")})


def test_curve_cells_are_keyed_apart_and_the_full_point_is_the_plain_cell(tmp_path):
    plain = build_plan(_suite(tmp_path, ["probe"]))
    curved = build_plan(_suite(tmp_path, [{"name": "probe", "curve": CURVE}]))
    (plain_cell,) = plain.cells
    points = [c for c in curved.cells if isinstance(c.strategy, CurvePoint)]
    assert len(points) == 3 * 3  # sizes 1, 4, 16 x 3 draws; full is the plain cell
    assert [c.key for c in curved.cells if not isinstance(c.strategy, CurvePoint)] == [
        plain_cell.key]
    assert len({c.key for c in curved.cells}) == len(curved.cells)


def test_full_size_point_equals_the_plain_probe_cell(tmp_path):
    res = adapteval.run(_suite(tmp_path, [{"name": "probe", "curve": CURVE}]))
    plain = res.summary()
    full = res.curves().points.query("size == 'full'").iloc[0]
    assert full["value"] == plain.iloc[0]["value"]
    assert (full["ci_low"], full["ci_high"]) == (plain.iloc[0]["ci_low"],
                                                 plain.iloc[0]["ci_high"])
    # the curve's points grow towards it, each with three draws
    pts = res.curves().points
    assert list(pts["size"]) == ["1", "4", "16", "full"]
    assert list(pts["draws"]) == [3, 3, 3, 1]
    assert list(pts["per_label"][:3]) == [1, 4, 16]


def test_draws_are_nested_and_stratified():
    from adapteval.data.task import View

    y = np.repeat([0, 1, 2], [10, 5, 1])
    view = View([str(i) for i in range(len(y))], None, y, rows=np.arange(len(y)))
    small, large = subset(view, 2, 0, 1, False), subset(view, 4, 0, 1, False)
    assert set(small) <= set(large)
    assert list(np.bincount(y[small])) == [2, 2, 1]  # a label with 1 item gives all it has
    assert not np.array_equal(subset(view, 2, 0, 0, False), subset(view, 2, 0, 1, False))


def test_one_feature_pass_covers_the_whole_curve(tmp_path):
    """The items a run encodes for a curve are exactly the plain cell's: train and test."""
    strategies = [{"name": "probe", "curve": CURVE},
                  {"name": "kshot", "curve": {"sizes": [2, 8], "draws": 2}}]
    curved = build_plan(_suite(tmp_path, strategies))
    plain = build_plan(_suite(tmp_path, ["probe"]))
    assert set(needed_items(curved.cells)) == set(needed_items(plain.cells))


def test_kshot_curve_sets_samples_per_label_and_draws_are_its_experiments(tmp_path):
    plan = build_plan(_suite(tmp_path, [{"name": "kshot",
                                         "curve": {"sizes": [2, 8, "full"], "draws": 4}}]))
    points = [c.strategy for c in plan.cells if isinstance(c.strategy, CurvePoint)]
    assert [p.config()["samples_per_label"] for p in points] == [2, 8, 100_000]
    assert [p.config()["n_experiments"] for p in points] == [4, 4, 1]  # full: one draw


def test_a_size_covering_the_whole_split_is_dropped_with_a_warning(tmp_path):
    plan = build_plan(_suite(tmp_path, [{"name": "probe",
                                         "curve": {"sizes": [4, 5000], "draws": 2}}]))
    assert len([c for c in plan.cells if isinstance(c.strategy, CurvePoint)]) == 2
    assert any("covers the whole training split" in w for w in plan.warnings)


@pytest.mark.parametrize(("sizes", "message"), [
    ([0, 4], "must be positive"), ([-2], "must be positive"), ([4, 4], "listed twice"),
    ([1.5], "must be below 1"), (["half"], "not a count"),
])
def test_bad_sizes_are_refused_in_one_line(tmp_path, sizes, message):
    with pytest.raises(ConfigError) as err:
        _suite(tmp_path, [{"name": "probe", "curve": {"sizes": sizes}}])
    assert message in str(err.value) and "\n" not in str(err.value)


def test_kshot_fraction_sizes_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="fraction"):
        build_plan(_suite(tmp_path, [{"name": "kshot", "curve": {"sizes": [0.5]}}]))


def test_points_and_tuned_strategies_survive_pickling_for_workers_and_ray():
    import pickle

    from adapteval.strategies.kshot import KShot
    from adapteval.strategies.probe import Probe
    from adapteval.strategies.tuning import Tuned

    tuned = Tuned(Probe(), {"C": [0.1, 1.0]}, 0.2)
    for s in (CurvePoint(tuned, 8, 2), CurvePoint(KShot(), 4, 0, 5), tuned):
        again = pickle.loads(pickle.dumps(s))
        assert again.config() == s.config() and again.name == s.name


def test_regression_sizes_count_items(tmp_path):
    rng = np.random.default_rng(0)
    words = ["good", "bad", "fine", "great", "awful", "ok"]
    rows = ["text,label"] + [
        f"{' '.join(rng.choice(words, 5))},{rng.normal():.3f}" for _ in range(240)]
    (tmp_path / "reg.csv").write_text("\n".join(rows) + "\n")
    suite = suite_from_dict({"models": ["tfidf"], "baselines": [],
                             "tasks": [{"name": "reg", "path": str(tmp_path / "reg.csv"),
                                        "type": "regression"}],
                             "strategies": [{"name": "probe",
                                             "curve": {"sizes": [10, 0.5, "full"],
                                                       "draws": 2}}],
                             "bootstrap": {"n_resamples": 200},
                             "output_dir": str(tmp_path / "out")})
    pts = adapteval.run(suite).curves().points
    assert list(pts["size"]) == ["10", "0.5", "full"]
    assert list(pts["n_train"]) == [10, 90, 180]  # 240 rows, a quarter for test
    assert pts["per_label"].isna().all()
