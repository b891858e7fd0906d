"""Robustness on images: a logistic regression on real Fashion-MNIST pixels loses accuracy
and flips more predictions as every corruption grows more severe; the numbers agree with
re-scoring the corrupted images by hand; they feed the same criteria as on text, and the
report shows the severity table, the curves and the example thumbnails."""

from __future__ import annotations

import numpy as np
import pytest
from image_predictors import ImageTask, PixelLinear, image_context

from adapteval.analyses.robustness import Robustness, RobustnessParams
from adapteval.contracts.analysis import AnalysisRow
from adapteval.core.errors import ConfigError
from adapteval.perturbations.images import BUILTIN_CORRUPTIONS, corrupt_images
from image_samples import fashion

CLASSES = ("T-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker",
           "bag", "boot")


@pytest.fixture(scope="module")
def clothes():
    train, y_train = fashion(1000, "train")
    test, y_test = fashion(150, "t10k")
    predictor = PixelLinear(ImageTask("fashion", CLASSES), train, y_train)
    return predictor, test, y_test


@pytest.fixture(scope="module")
def result(clothes):
    predictor, test, y = clothes
    analysis = Robustness(RobustnessParams(n_examples=2))
    return analysis.run(image_context(predictor, test, y, seed=3))


@pytest.mark.slow
def test_defaults_run_every_corruption_at_every_severity(result):
    assert result["modality"] == "image" and result["n_items"] == 150
    assert [p["name"] for p in result["perturbations"]] == sorted(BUILTIN_CORRUPTIONS)
    assert result["severities"] == [1, 2, 3, 4, 5]
    assert len(result["by_corruption_severity"]) == len(BUILTIN_CORRUPTIONS) * 5


@pytest.mark.slow
def test_accuracy_falls_and_flips_rise_with_severity(result):
    assert result["clean_accuracy"] > 0.7
    mean = result["by_severity"]
    acc = [m["accuracy"] for m in mean]
    flips = [m["flip_rate"] for m in mean]
    assert (np.diff(acc) < 0).all(), acc
    assert (np.diff(flips) > 0).all(), flips
    for name in BUILTIN_CORRUPTIONS:
        mine = [g for g in result["by_corruption_severity"] if g["name"] == name]
        assert mine[-1]["accuracy"] <= mine[0]["accuracy"], name
        assert mine[-1]["flip_rate"] >= mine[0]["flip_rate"], name
    assert result["worst_drop"] == max(p["drop"] for p in result["perturbations"])
    assert result["flip_rate"] == pytest.approx(
        np.mean([g["flip_rate"] for g in result["by_corruption_severity"]]))


@pytest.mark.slow
def test_numbers_equal_rescoring_the_corrupted_images_by_hand(clothes, result):
    predictor, test, y = clothes
    clean = predictor.predict(test)
    rows = np.arange(len(test)) + 1000  # the task row ids of the context
    for name in ("jpeg", "rotate", "occlude"):
        corrupted = corrupt_images(test, name, severity=4, seed=3, index=rows)
        pred = predictor.predict(corrupted)
        got = next(g for g in result["by_corruption_severity"]
                   if g["name"] == name and g["severity"] == 4)
        assert got["accuracy"] == pytest.approx(np.mean(pred == y))
        assert got["flip_rate"] == pytest.approx(np.mean(pred != clean))


@pytest.mark.slow
def test_the_same_seed_gives_the_same_result_and_severities_can_be_chosen(clothes, result):
    predictor, test, y = clothes
    again = Robustness(RobustnessParams(n_examples=2)).run(image_context(predictor, test, y,
                                                                         seed=3))
    assert again == result
    few = Robustness(RobustnessParams(corruptions=["gaussian_noise"], severities=[5, 1],
                                      max_items=40)).run(image_context(predictor, test, y))
    assert few["severities"] == [1, 5] and few["n_items"] == 40
    assert [g["severity"] for g in few["by_corruption_severity"]] == [1, 5]


def test_bad_parameters_are_one_line_errors():
    with pytest.raises(ConfigError, match="severity must be an int from 1 to 5"):
        Robustness.from_params({"severities": [0, 3]})
    with pytest.raises(ConfigError, match="appears twice"):
        Robustness.from_params({"corruptions": ["jpeg", "jpeg"]})
    with pytest.raises(ConfigError, match="unknown corruption 'blur'"):
        Robustness.from_params({"corruptions": ["blur"]}).check(None, where="analyses[0]")


@pytest.mark.slow
def test_criteria_numbers_and_report_parts(result):
    scalars = Robustness.scalars(result)
    assert set(scalars) == {"clean_accuracy", "mean_drop", "worst_drop", "flip_rate"}
    assert all(Robustness.offers[k].contains(v) for k, v in scalars.items())
    rows = [AnalysisRow("k", "c", "robustness", "pixels", "fashion", "probe", seed, {}, result,
                        "0", 0.0, 0.0) for seed in (0, 1)]
    (section,) = Robustness.sections(rows)
    severity = next(t for t in section.written() if t.key == "robustness-severity")
    assert len(severity.rows) == len(BUILTIN_CORRUPTIONS) + 1  # and the mean row
    assert [p.kind for p in section.plots] == ["robustness-drops", "robustness-severity"]
    examples = section.examples
    assert examples is not None and len(examples.rows) == 3  # examples of the first seed
    first = sorted(BUILTIN_CORRUPTIONS)[:3]  # one of each corruption first
    assert [r.cells[3].value for r in examples.rows] == [f"{n} at severity 3" for n in first]
    kinds = [c.kind for c in examples.rows[0].cells]
    assert kinds.count("image") == 2
    # the JSON export carries the numbers and a description of each image, not its pixels
    shown = section.data["images"]["examples"][0]
    assert shown["clean_image"] == shown["corrupted_image"] == "[image]"
    import adapteval.report.image_plots  # noqa: F401  (adds the image figures)
    from adapteval.report.plots import draw

    svg = draw(section.plots[1])
    assert svg.startswith("<svg") and "severity" in svg and "gaussian_noise" in svg
