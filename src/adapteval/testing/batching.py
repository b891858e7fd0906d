"""Checks that results on a batch equal results on the whole, where a kind allows it:
metric replicates against the reference computed resample by resample, perturbations
item by item, estimators run twice, model kinds encoding batch against item by item."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from adapteval.core.plugin import TEXT_MODALITIES
from adapteval.metrics import Metric, bootstrap_indices
from adapteval.perturbations.images import SEVERITIES, corrupt_images
from adapteval.perturbations.registry import perturb_texts
from adapteval.suite.specs import ModelSpec

TEXTS = [
    "The film was wonderful, I'd see it again.",
    "Terrible service; we waited 45 minutes and nobody came.",
    "ok",
    "She said the plot didn't make sense, but John loved the actors.",
    "An average day at the office: emails, meetings and more emails!",
    "It is not bad at all.",
]


def metric_inputs(task: str, seed: int = 0, n: int = 40, k: int = 3) -> dict[str, Any]:
    """Predictions that are partly right: (y, pred, proba, k) for classification,
    (y, pred) for regression."""
    rng = np.random.default_rng(seed)
    if task == "regression":
        y = rng.normal(size=n)
        return {"y": y, "pred": y + rng.normal(scale=0.7, size=n), "proba": None, "k": None}
    y = rng.integers(0, k, size=n)
    logits = rng.normal(size=(n, k)) + 2.0 * np.eye(k)[y]
    proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return {"y": y, "pred": proba.argmax(1), "proba": proba, "k": k}


def check_metric_replicates(metric: Metric, n_resamples: int = 25) -> None:
    """The vectorised bootstrap ``replicates`` equals the reference ``compute`` on each
    resample, one by one (and ``compute`` on the whole lies within ``bounds``)."""
    d = metric_inputs(metric.task)
    y, pred, proba, k = d["y"], d["pred"], d["proba"], d["k"]
    idx = bootstrap_indices(len(y), n_resamples, seed=7)
    classification = metric.task != "regression"
    extra = (k,) if classification else ()
    reps = np.asarray(metric.replicates(y, pred, proba, idx, *extra), dtype=np.float64)
    assert reps.shape == (n_resamples,), f"replicates has shape {reps.shape}, not ({n_resamples},)"
    for b, rows in enumerate(idx):
        pr = proba[rows] if proba is not None else None
        ref = float(metric.compute(y[rows], pred[rows], pr, *extra))
        assert np.isclose(reps[b], ref, rtol=1e-7, atol=1e-9, equal_nan=True), (
            f"resample {b}: replicates gives {reps[b]!r}, compute gives {ref!r}")
    whole = float(metric.compute(y, pred, proba, *extra))
    low, high = getattr(metric, "bounds", (-np.inf, np.inf))
    assert low <= whole <= high, f"value {whole} outside its bounds [{low}, {high}]"


def check_perturbation_items(perturbation: Any, seed: int = 3) -> None:
    """Perturbing item by item (``start=i``) gives what perturbing the whole list gives
    with the same seed, twice the same, and strings throughout."""
    name = perturbation.name
    whole = perturb_texts(TEXTS, name, seed=seed)
    assert all(isinstance(t, str) for t in whole), "a perturbed item is not a string"
    assert perturb_texts(TEXTS, name, seed=seed) == whole, "same seed, different output"
    items = [perturb_texts([t], name, seed=seed, start=i)[0] for i, t in enumerate(TEXTS)]
    differ = [i for i, (a, b) in enumerate(zip(whole, items, strict=True)) if a != b]
    assert not differ, f"items {differ} differ when perturbed one by one"


def check_corruption_items(corruption: Any, seed: int = 3) -> None:
    """At every severity: corrupting item by item (``start=i``) gives what corrupting the
    whole list gives with the same seed, twice the same, uint8 images of the input's shape."""
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, size=shape, dtype=np.uint8)
              for shape in ((12, 16, 3), (9, 9, 3), (20, 7, 3))]
    for severity in SEVERITIES:
        whole = corrupt_images(images, corruption.name, severity=severity, seed=seed)
        assert [w.shape for w in whole] == [i.shape for i in images], "a shape changed"
        again = corrupt_images(images, corruption.name, severity=severity, seed=seed)
        assert all(np.array_equal(a, b) for a, b in zip(whole, again, strict=True)), (
            f"severity {severity}: same seed, different output")
        items = [corrupt_images([im], corruption.name, severity=severity, seed=seed, start=i)[0]
                 for i, im in enumerate(images)]
        differ = [i for i, (a, b) in enumerate(zip(whole, items, strict=True))
                  if not np.array_equal(a, b)]
        assert not differ, f"severity {severity}: items {differ} differ one by one"


def estimator_inputs(seed: int = 0, n: int = 60, d: int = 6) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    features = rng.normal(size=(n, d)) + np.eye(3, d)[labels] * 1.5
    return features, labels


def check_estimator_deterministic(estimator: Any) -> None:
    """The same features twice give the same finite score, and inputs are left as they
    were (regression too, when supported)."""
    features, labels = estimator_inputs()
    cases = [(labels, False)]
    if getattr(estimator, "supports_regression", False):
        cases.append((features[:, 0] * 2 + labels.astype(float), True))
    for target, regression in cases:
        f0, t0 = features.copy(), np.array(target, copy=True)
        first = estimator(features, target, regression=regression)
        second = estimator(features, target, regression=regression)
        kind = "regression" if regression else "classification"
        assert isinstance(first, float) and np.isfinite(first), (
            f"{kind}: score is {first!r}, not a finite float")
        assert first == second, f"{kind}: same input, scores {first!r} then {second!r}"
        assert np.array_equal(features, f0) and np.array_equal(target, t0), (
            f"{kind}: the estimator modified its inputs")


def sample_images(n: int = 6) -> list[np.ndarray]:
    """Seeded uint8 RGB images of mixed sizes (the image modality's item form)."""
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (8 + 3 * i, 10 + 2 * i, 3), dtype=np.uint8) for i in range(n)]


def _dense(x: Any) -> np.ndarray:
    return np.asarray(x.toarray() if hasattr(x, "toarray") else x, dtype=np.float64)


def check_model_kind_batching(kind: Any, spec: ModelSpec, base_dir: Path | None = None) -> None:
    """Resolving twice gives the same key; the loaded model encodes a batch as it
    encodes item by item (baselines: fitted on the same texts)."""
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    ref = kind.resolve(spec, base, where="conformance")
    assert ref.key == kind.resolve(spec, base, where="conformance").key, (
        "resolving the same spec twice gives different keys")
    assert ref.kind == kind.name, f"resolve returned a ref of kind {ref.kind!r}"
    model = kind.load(ref)
    if hasattr(model, "fit_transform"):  # a baseline fitted on the training items
        texts = TEXTS if kind.modalities & set(TEXT_MODALITIES) else sample_images()
        whole = _dense(model.fit_transform(texts, None, [(texts, None)])[0])
        parts = model.fit_transform(texts, None, [([t], None) for t in texts])
        items = np.vstack([_dense(p) for p in parts])
    else:
        texts = TEXTS if kind.modalities & set(TEXT_MODALITIES) else sample_images()
        whole = np.asarray(model.encode(texts, batch_size=len(texts)), dtype=np.float64)
        items = np.vstack([np.asarray(model.encode([t], batch_size=1), dtype=np.float64)
                           for t in texts])
        dim = getattr(model, "dim", None)
        assert dim is None or whole.shape[1] == dim, (
            f"encode gives {whole.shape[1]} columns, dim says {dim}")
    assert whole.shape[0] == len(texts), f"{whole.shape[0]} rows for {len(texts)} items"
    assert np.allclose(whole, items, rtol=1e-4, atol=1e-5), (
        f"batch and item-by-item encodings differ (max {np.abs(whole - items).max():.3g})")
