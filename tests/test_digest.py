"""Averages of analysis results: counts stay counts (``15``, not ``15.000``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from adapteval.contracts.digest import mean
from adapteval.metrics import METRICS


def test_the_mean_of_whole_counts_is_a_count():
    assert mean([15, 15, 15]) == 15 and isinstance(mean([15, 15, 15]), int)
    assert mean([2, 3]) == pytest.approx(2.5)
    assert isinstance(mean([1.0, 1.0]), float)  # measured values stay floats
    assert mean([None, math.nan]) is None


def test_spearman_on_constant_predictions_is_undefined_without_a_warning(recwarn):
    y = np.array([0.1, 0.5, 0.9, 0.3])
    assert math.isnan(METRICS.get("spearman").compute(y, np.full(4, 0.5), None))
    assert not [w for w in recwarn if "Constant" in type(w.message).__name__]
