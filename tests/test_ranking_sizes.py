"""Transferability estimators against the real ranking at each size of a learning curve."""

from __future__ import annotations

import pandas as pd
import pytest
from scipy import stats
from tests.summaries.test_curves import _curve_rows, _results

from adapteval.presentation.ranks import ranking_sections
from adapteval.ranking import Ranking, size_agreement


def test_weighted_tau_at_each_size_follows_the_ranking_of_that_size():
    # three models: a leads with little data, c with all of it
    curves = {"a": ({2: [0.8, 0.8]}, 0.82), "b": ({2: [0.7, 0.7]}, 0.85),
              "c": ({2: [0.6, 0.6]}, 0.9)}
    rows = [r for m, (c, full) in curves.items() for r in _curve_rows(m, "probe", c, full)]
    results = _results(rows)
    estimates = pd.DataFrame({"model": ["a", "b", "c"], "task": "task", "estimator": "logme",
                              "score": [3.0, 2.0, 1.0], "seconds": 0.0})
    ranking = Ranking(estimates, "logme")
    by_size = size_agreement(ranking, results)
    tau = by_size.set_index("size")["weighted_tau"]
    assert tau["2"] == pytest.approx(1.0)  # the estimator's order is the one at 2 per label
    assert tau["full"] == pytest.approx(-1.0)  # and the reverse of the full-data order
    assert tau["full"] == pytest.approx(
        stats.weightedtau([3.0, 2.0, 1.0], [0.82, 0.85, 0.9]).statistic)
    keys = [s.key for s in ranking_sections(ranking, None, by_size)]
    assert keys[-1] == "size_agreement"
