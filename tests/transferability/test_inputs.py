"""Bad inputs fail with a DataError that says what is wrong; the registry is usable."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from adapteval.core.errors import ConfigError, DataError, IncompatibleError
from adapteval.transferability import ESTIMATORS, Estimator, estimate

NAMES = sorted(ESTIMATORS)


def good_data(n: int = 40, d: int = 6) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, d)), np.array(["a", "b"] * (n // 2))


@pytest.mark.parametrize("name", NAMES)
def test_one_class_only_is_rejected(name: str) -> None:
    f, _ = good_data()
    with pytest.raises(DataError, match="only one class") as info:
        ESTIMATORS[name](f, ["spam"] * len(f))
    assert info.value.where == "labels"
    assert "spam" in str(info.value)


@pytest.mark.parametrize("name", NAMES)
def test_nan_in_features_is_rejected(name: str) -> None:
    f, y = good_data()
    f[3, 2] = np.nan
    with pytest.raises(DataError, match="NaN") as info:
        ESTIMATORS[name](f, y)
    assert info.value.where == "features"
    assert "row 3, column 2" in str(info.value)


@pytest.mark.parametrize("name", NAMES)
def test_mismatched_lengths_are_rejected(name: str) -> None:
    f, y = good_data()
    with pytest.raises(DataError, match="40 rows but labels has 39"):
        ESTIMATORS[name](f, y[:-1])


def test_estimate_checks_inputs_before_running_anything() -> None:
    f, y = good_data()
    with pytest.raises(DataError, match="only one class"):
        estimate(f, np.zeros(len(f)))
    with pytest.raises(DataError, match="2-D"):
        estimate(f[:, 0], y)
    with pytest.raises(DataError, match="infinite"):
        estimate(np.where(f > 2, np.inf, f), y)
    with pytest.raises(DataError, match="must be numbers"):
        estimate(f.astype(str), y)
    with pytest.raises(DataError, match="labels contain NaN"):
        estimate(f, np.where(np.arange(len(f)) == 5, np.nan, 1.0 * (f[:, 0] > 0)))
    with pytest.raises(DataError, match="1-D"):
        estimate(f, np.eye(2)[np.arange(len(f)) % 2])
    with pytest.raises(DataError, match="all zero"):
        estimate(np.zeros_like(f), y)


def test_regression_targets_are_checked() -> None:
    f, _ = good_data()
    with pytest.raises(DataError, match="must be numbers"):
        estimate(f, ["x"] * len(f), regression=True)
    with pytest.raises(DataError, match="NaN"):
        estimate(f, np.full(len(f), np.nan), regression=True)
    with pytest.raises(DataError, match="all zeros"):
        estimate(f, np.zeros(len(f)), ["logme"], regression=True)


def test_unknown_estimator_name_suggests_the_closest() -> None:
    f, y = good_data()
    with pytest.raises(ConfigError, match="did you mean 'logme'"):
        estimate(f, y, ["logme2"])


def test_classification_only_estimator_refuses_regression() -> None:
    f, _ = good_data()
    with pytest.raises(IncompatibleError, match="hscore"):
        estimate(f, f[:, 0], ["hscore"], regression=True)


def test_bad_options_are_config_errors() -> None:
    from adapteval.transferability import (
        hscore,
        knn_loo_accuracy,
        linear_cv_score,
        logistic_cv_score,
    )

    f, y = good_data()
    with pytest.raises(ConfigError, match="metric"):
        knn_loo_accuracy(f, y, metric="manhattan")
    with pytest.raises(ConfigError, match="k must be between 1 and 39"):
        knn_loo_accuracy(f, y, k=40)
    with pytest.raises(ConfigError, match="folds"):
        logistic_cv_score(f, y, folds=1)
    with pytest.raises(ConfigError, match="alphas"):
        linear_cv_score(f, y, alphas=[1.0, -1.0])
    with pytest.raises(ConfigError, match="shrinkage"):
        hscore(f, y, shrinkage=2.0)


def test_estimate_runs_every_estimator_that_fits_the_task() -> None:
    f, y = good_data(n=60)
    scores = estimate(f, y)
    assert list(scores) == list(ESTIMATORS)
    assert all(np.isfinite(v) for v in scores.values())
    regression = estimate(f, f[:, 0] + f[:, 1], regression=True)
    assert set(regression) == {n for n, e in ESTIMATORS.items() if e.supports_regression}
    assert estimate(f, y, "gbc") == {"gbc": ESTIMATORS["gbc"](f, y)}


def test_registry_entries_describe_themselves() -> None:
    for name, est in ESTIMATORS.items():
        assert isinstance(est, Estimator) and est.name == name
        assert est.higher_is_better
        assert len(est.reference) > 20 and any(c.isdigit() for c in est.reference)
        with pytest.raises(dataclasses.FrozenInstanceError):
            est.name = "other"  # type: ignore[misc]
    assert ESTIMATORS["logme"].supports_regression
    assert not ESTIMATORS["hscore"].supports_regression
