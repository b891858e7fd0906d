"""Temperature scaling (Guo et al., ICML 2017) on synthetic data from a known softmax."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import softmax

from adapteval.calibration.reliability import negative_log_likelihood
from adapteval.calibration.temperature import apply_temperature, fit_temperature, proba_to_logits
from adapteval.core.errors import ConfigError, DataError


def _synthetic(seed: int, n: int = 20_000, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """True logits and labels drawn from softmax(true logits): calibrated at T = 1."""
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=2.0, size=(n, k))
    cum = np.cumsum(softmax(z, axis=1), axis=1)
    y = np.minimum((cum < rng.random(n)[:, None]).sum(axis=1), k - 1)
    return z, y


@pytest.mark.parametrize(("scale", "expected_t"), [(3.0, 3.0), (1.0, 1.0), (0.5, 0.5)])
def test_recovers_known_temperature(scale: float, expected_t: float) -> None:
    z, y = _synthetic(0)
    t = fit_temperature(logits=scale * z, y_true=y)
    assert t == pytest.approx(expected_t, rel=0.1)


def test_lowers_nll_of_overconfident_logits_on_held_out_data() -> None:
    z, y = _synthetic(1)
    over = 3.0 * z
    val, test = slice(0, 10_000), slice(10_000, None)
    t = fit_temperature(logits=over[val], y_true=y[val])
    before = negative_log_likelihood(y_true=y[test], proba=apply_temperature(over[test], 1.0))
    after = negative_log_likelihood(y_true=y[test], proba=apply_temperature(over[test], t))
    assert t > 1.0
    assert after < before - 0.1


def test_fit_is_deterministic_and_minimises_nll() -> None:
    z, y = _synthetic(2, n=3_000)
    t1 = fit_temperature(logits=2.0 * z, y_true=y)
    t2 = fit_temperature(logits=2.0 * z, y_true=y)
    assert t1 == t2

    def nll(t: float) -> float:
        return negative_log_likelihood(y_true=y, proba=apply_temperature(2.0 * z, t))

    for t in (t1 * 0.97, t1 * 1.03, 1.0, 2.0):
        assert nll(t1) <= nll(t) + 1e-12


def test_works_from_probabilities_via_log_probabilities() -> None:
    z, y = _synthetic(3)
    proba = softmax(3.0 * z, axis=1)
    logits = proba_to_logits(proba)
    np.testing.assert_allclose(apply_temperature(logits, 1.0), proba, atol=1e-12)
    assert fit_temperature(logits=logits, y_true=y) == pytest.approx(3.0, rel=0.1)


def test_apply_temperature_keeps_argmax_and_softens() -> None:
    z, _ = _synthetic(4, n=500)
    hot = apply_temperature(z, 0.5)
    cold = apply_temperature(z, 4.0)
    np.testing.assert_allclose(hot.sum(axis=1), 1.0)
    np.testing.assert_array_equal(hot.argmax(axis=1), cold.argmax(axis=1))
    assert cold.max(axis=1).mean() < softmax(z, axis=1).max(axis=1).mean()
    # Large logits do not overflow.
    assert np.isfinite(apply_temperature(np.array([[1e4, 0.0, -1e4]]), 0.01)).all()


def test_separable_data_stays_inside_bounds() -> None:
    z = np.array([[5.0, 0.0], [0.0, 5.0]] * 50)
    y = np.array([0, 1] * 50)
    t = fit_temperature(logits=z, y_true=y)
    assert t == pytest.approx(0.01, rel=1e-3)
    assert math.isfinite(t)
    t_wide = fit_temperature(logits=z, y_true=y, bounds=(0.1, 10.0))
    assert t_wide == pytest.approx(0.1, rel=1e-3)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), True, "2"])
def test_bad_temperature_raises_config_error(bad: object) -> None:
    with pytest.raises(ConfigError, match="temperature"):
        apply_temperature(np.zeros((2, 3)), bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [(0.0, 10.0), (5.0, 1.0), (1.0,), "ab", (1.0, float("inf"))])
def test_bad_bounds_raise_config_error(bad: object) -> None:
    z, y = _synthetic(5, n=50)
    with pytest.raises(ConfigError, match="bounds"):
        fit_temperature(logits=z, y_true=y, bounds=bad)  # type: ignore[arg-type]


def test_bad_logits_and_labels_raise_data_error() -> None:
    with pytest.raises(DataError, match="logits"):
        fit_temperature(logits=np.zeros(4), y_true=[0, 1, 0, 1])
    with pytest.raises(DataError, match="finite"):
        fit_temperature(logits=[[0.0, np.inf]], y_true=[0])
    with pytest.raises(DataError, match="y_true"):
        fit_temperature(logits=np.zeros((3, 2)), y_true=[0, 1])
