"""Calibration metrics: ECE/MCE, reliability diagrams, Brier, NLL and the report."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, log_loss

from adapteval.calibration.reliability import (
    brier_score,
    calibration_report,
    expected_calibration_error,
    maximum_calibration_error,
    negative_log_likelihood,
    reliability_diagram,
)
from adapteval.calibration.temperature import apply_temperature
from adapteval.core.errors import ConfigError, DataError


def _sample_labels(rng: np.random.Generator, proba: np.ndarray) -> np.ndarray:
    """One label per row drawn from that row's categorical distribution."""
    u = rng.random(proba.shape[0])[:, None]
    return np.minimum((np.cumsum(proba, axis=1) < u).sum(axis=1), proba.shape[1] - 1)


def _random_case(seed: int, n: int = 500, k: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    proba = rng.dirichlet(np.full(k, 0.7), size=n)
    return rng.integers(0, k, size=n), proba


def _slow_ece(y: np.ndarray, proba: np.ndarray, edges: list[float]) -> tuple[float, float]:
    """ECE and MCE by an explicit loop over items and right-closed bins."""
    n_bins = len(edges) - 1
    count = [0] * n_bins
    conf_sum = [0.0] * n_bins
    hit_sum = [0.0] * n_bins
    for label, row in zip(y, proba, strict=True):
        conf = max(row)
        pred = list(row).index(conf)
        for b in range(n_bins):
            lo, hi = edges[b], edges[b + 1]
            if lo < conf <= hi or (b == 0 and conf <= hi) or b == n_bins - 1:
                break
        count[b] += 1
        conf_sum[b] += conf
        hit_sum[b] += float(pred == label)
    ece, mce = 0.0, 0.0
    for b in range(n_bins):
        if count[b]:
            gap = abs(hit_sum[b] / count[b] - conf_sum[b] / count[b])
            ece += count[b] / len(y) * gap
            mce = max(mce, gap)
    return ece, mce


@pytest.mark.parametrize("n_bins", [1, 5, 15])
@pytest.mark.parametrize("seed", [0, 1])
def test_ece_matches_slow_loop_uniform(seed: int, n_bins: int) -> None:
    y, proba = _random_case(seed)
    edges = [b / n_bins for b in range(n_bins + 1)]
    ece, mce = _slow_ece(y, proba, edges)
    kw = {"y_true": y, "proba": proba, "n_bins": n_bins}
    assert expected_calibration_error(**kw) == pytest.approx(ece, abs=1e-12)
    assert maximum_calibration_error(**kw) == pytest.approx(mce, abs=1e-12)


def test_ece_matches_slow_loop_quantile() -> None:
    y, proba = _random_case(3)
    conf = proba.max(axis=1)
    edges = [float(np.quantile(conf, q)) for q in np.linspace(0, 1, 11)]
    ece, mce = _slow_ece(y, proba, edges)
    kw = {"y_true": y, "proba": proba, "n_bins": 10, "strategy": "quantile"}
    assert expected_calibration_error(**kw) == pytest.approx(ece, abs=1e-12)
    assert maximum_calibration_error(**kw) == pytest.approx(mce, abs=1e-12)
    diagram = reliability_diagram(**kw)
    assert diagram.counts.min() >= 49  # quantile bins hold about n / n_bins items


def test_bins_are_right_closed() -> None:
    # 5 uniform bins: 0.6 belongs to (0.4, 0.6], 1.0 to the last bin, 0.5 to (0.4, 0.6].
    proba = np.array([[0.6, 0.4], [0.0, 1.0], [0.5, 0.5], [0.8, 0.2]])
    diagram = reliability_diagram(y_true=[0, 1, 0, 0], proba=proba, n_bins=5)
    assert diagram.counts.tolist() == [0, 0, 2, 1, 1]
    # A single bin: ECE is |accuracy - mean confidence| over everything.
    ece = expected_calibration_error(y_true=[0, 1, 0, 0], proba=proba, n_bins=1)
    assert ece == pytest.approx(abs(1.0 - np.mean([0.6, 1.0, 0.5, 0.8])))


def test_perfectly_calibrated_data_has_ece_near_zero() -> None:
    rng = np.random.default_rng(7)
    proba = rng.dirichlet(np.ones(3), size=100_000)
    y = _sample_labels(rng, proba)
    assert expected_calibration_error(y_true=y, proba=proba) < 0.015
    assert expected_calibration_error(y_true=y, proba=proba, strategy="quantile") < 0.015


def test_confident_and_always_wrong_has_ece_near_one() -> None:
    proba = np.tile([1 - 1e-6, 1e-6], (200, 1))
    y = np.ones(200, dtype=int)
    assert expected_calibration_error(y_true=y, proba=proba) == pytest.approx(1.0, abs=1e-5)
    assert maximum_calibration_error(y_true=y, proba=proba) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_positive_class_diagram_matches_sklearn_calibration_curve(strategy: str) -> None:
    # calibration_curve bins P(y=1) and returns only the non-empty bins, so compare it
    # with the class-wise diagram for class 1, not with the top-label one.
    rng = np.random.default_rng(11)
    p1 = rng.beta(2, 5, size=2_000)
    y = (rng.random(2_000) < p1**1.3).astype(int)
    prob_true, prob_pred = calibration_curve(y, p1, n_bins=10, strategy=strategy)
    proba = np.column_stack([1 - p1, p1])
    diagram = reliability_diagram(
        y_true=y, proba=proba, n_bins=10, strategy=strategy, positive_class=1
    )
    keep = ~diagram.empty
    np.testing.assert_allclose(diagram.accuracy[keep], prob_true, atol=1e-12)
    np.testing.assert_allclose(diagram.mean_confidence[keep], prob_pred, atol=1e-12)
    # A 1-D proba is read as P(y=1) and gives the same diagram.
    one_d = reliability_diagram(y_true=y, proba=p1, n_bins=10, strategy=strategy, positive_class=1)
    np.testing.assert_array_equal(one_d.counts, diagram.counts)


def test_reliability_diagram_has_no_nan_and_flags_empty_bins() -> None:
    proba = np.array([[0.95, 0.05], [0.9, 0.1], [0.55, 0.45]])
    diagram = reliability_diagram(y_true=[0, 1, 0], proba=proba, n_bins=10)
    assert diagram.n_bins == 10 and diagram.n_samples == 3
    assert diagram.edges.shape == (11,)
    for arr in (diagram.mean_confidence, diagram.accuracy, diagram.gaps):
        assert not np.isnan(arr).any()
    assert diagram.empty.tolist() == (diagram.counts == 0).tolist()
    assert diagram.counts.tolist() == [0, 0, 0, 0, 0, 1, 0, 0, 1, 1]  # 0.9 is in (0.8, 0.9]
    assert np.all(diagram.accuracy[diagram.empty] == 0.0)
    with pytest.raises(ValueError):
        diagram.counts[0] = 5  # read-only


def test_nll_equals_sklearn_log_loss() -> None:
    y, proba = _random_case(5, k=5)
    expected = log_loss(y, y_proba=proba, labels=list(range(5)))
    assert negative_log_likelihood(y_true=y, proba=proba) == pytest.approx(expected, rel=1e-12)
    # A zero probability on the true class is clipped, as in sklearn, not infinite.
    hard = np.array([[1.0, 0.0], [0.3, 0.7]])
    nll = negative_log_likelihood(y_true=[1, 1], proba=hard)
    assert np.isfinite(nll)
    assert nll == pytest.approx(log_loss([1, 1], y_proba=hard, labels=[0, 1]), rel=1e-12)


def test_brier_is_twice_sklearn_brier_score_loss_for_binary() -> None:
    rng = np.random.default_rng(2)
    p1 = rng.random(1_000)
    y = rng.integers(0, 2, size=1_000)
    proba = np.column_stack([1 - p1, p1])
    ours = brier_score(y_true=y, proba=proba)
    assert ours == pytest.approx(2 * brier_score_loss(y, p1), rel=1e-12)


def test_brier_multiclass_by_hand() -> None:
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    # item 0: (0.3^2 + 0.2^2 + 0.1^2); item 1 (label 0): (0.9^2 + 0.1^2 + 0.8^2)
    expected = (0.14 + 1.46) / 2
    assert brier_score(y_true=[0, 0], proba=proba) == pytest.approx(expected)
    assert brier_score(y_true=[0, 2], proba=[[1.0, 0, 0], [0, 0, 1.0]]) == 0.0


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"n_bins": 0}, "n_bins"),
        ({"n_bins": 2.5}, "n_bins"),
        ({"n_bins": True}, "n_bins"),
        ({"strategy": "kmeans"}, "strategy"),
        ({"positive_class": 3}, "positive_class"),
    ],
)
def test_bad_parameters_raise_config_error_naming_them(kwargs: dict, word: str) -> None:
    y, proba = _random_case(0, n=20, k=3)
    with pytest.raises(ConfigError, match=word):
        reliability_diagram(y_true=y, proba=proba, **kwargs)
    if "positive_class" not in kwargs:
        with pytest.raises(ConfigError, match=word):
            expected_calibration_error(y_true=y, proba=proba, **kwargs)


def test_n_bins_error_message_is_helpful() -> None:
    with pytest.raises(ConfigError) as info:
        expected_calibration_error(y_true=[0], proba=[[1.0, 0.0]], n_bins=0)
    assert str(info.value) == "n_bins must be an int >= 1 (got 0); pass e.g. n_bins=15"


@pytest.mark.parametrize(
    ("y", "proba", "word"),
    [
        ([0, 1], [[0.5, 0.6], [0.5, 0.5]], "sum to 1"),
        ([0, 1], [[1.5, -0.5], [0.5, 0.5]], r"\[0, 1\]"),
        ([0, 2], [[0.5, 0.5], [0.5, 0.5]], "class indices"),
        ([0], [[0.5, 0.5], [0.5, 0.5]], "y_true"),
        ([0.5, 1], [[0.5, 0.5], [0.5, 0.5]], "integer"),
        ([], np.zeros((0, 2)), "non-empty"),
        ([0, 1], [[np.nan, 1.0], [0.5, 0.5]], "finite"),
    ],
)
def test_bad_arrays_raise_data_error(y: list, proba: object, word: str) -> None:
    with pytest.raises(DataError, match=word):
        brier_score(y_true=y, proba=proba)


def test_report_without_validation_data() -> None:
    y, proba = _random_case(4, k=3)
    report = calibration_report(y_true=y, proba=proba, n_bins=10)
    assert set(report) == {"n_items", "n_bins", "ece", "mce", "brier", "nll"}
    assert report["ece"] == expected_calibration_error(y_true=y, proba=proba, n_bins=10)
    assert report["nll"] == negative_log_likelihood(y_true=y, proba=proba)
    assert all(isinstance(report[k], float) for k in ("ece", "mce", "brier", "nll"))


def test_report_with_temperature_scaling_improves_overconfident_model() -> None:
    rng = np.random.default_rng(21)
    z = rng.normal(scale=2.0, size=(8_000, 4))
    y = _sample_labels(rng, apply_temperature(z, 1.0))
    val, test = slice(0, 4_000), slice(4_000, None)
    over = 3.0 * z
    report = calibration_report(
        y_true=y[test],
        proba=apply_temperature(over[test], 1.0),
        val_logits=over[val],
        val_y=y[val],
        test_logits=over[test],
    )
    assert report["temperature"] == pytest.approx(3.0, rel=0.1)
    assert report["before"]["nll"] == report["nll"]
    assert report["after"]["nll"] < report["before"]["nll"] - 0.1
    assert report["after"]["ece"] < report["before"]["ece"] / 3
    # Without test_logits, log(proba) stands in and gives the same calibrated numbers.
    from_proba = calibration_report(
        y_true=y[test],
        proba=apply_temperature(over[test], 1.0),
        val_logits=over[val],
        val_y=y[val],
    )
    assert from_proba["after"]["nll"] == pytest.approx(report["after"]["nll"], rel=1e-6)


def test_report_argument_errors() -> None:
    y, proba = _random_case(4, n=30, k=3)
    logits = np.log(proba)
    with pytest.raises(ConfigError, match="together"):
        calibration_report(y_true=y, proba=proba, val_logits=logits)
    with pytest.raises(ConfigError, match="test_logits"):
        calibration_report(y_true=y, proba=proba, test_logits=logits)
    with pytest.raises(DataError, match="test_logits"):
        calibration_report(
            y_true=y, proba=proba, val_logits=logits, val_y=y, test_logits=logits[:5]
        )
