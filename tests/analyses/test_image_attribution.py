"""Attribution on images: on a model whose answer is planted in the top-left patch the
occlusion attributions find that patch, equal captum's own sliding-window Occlusion, and
their deletion/insertion curves beat random patch orders; a model that ignores its input
is no better than random; a real Fashion-MNIST classifier is explained more faithfully
than chance; the report shows the numbers and heat-map thumbnails."""

from __future__ import annotations

import numpy as np
import pytest
from image_predictors import ImageTask, PixelLinear, PlantedRule, image_context, planted_images

from adapteval.analyses.attribution import Attribution, AttributionParams
from adapteval.analyses.attribution_images import filled, occlusion, patch_ids
from adapteval.contracts.analysis import AnalysisRow
from adapteval.contracts.strategy import Predictor
from image_samples import fashion


class Constant(Predictor):
    def scores(self, items, pairs=None):
        return np.tile([0.3, 0.7], (len(items), 1))


@pytest.fixture(scope="module")
def planted():
    images, labels = planted_images(24, seed=1)
    return PlantedRule(ImageTask("planted", ("dim", "bright"))), images, labels


def test_occlusion_equals_captum_sliding_window_occlusion(planted):
    import torch
    from captum.attr import Occlusion

    predictor, images, _ = planted
    image = images[1]
    base = filled(image, "mean")
    ids = patch_ids(32, 32, 8)  # 4x4-pixel patches

    def forward(x):
        items = list(np.clip(np.rint(x.numpy()), 0, 255).astype(np.uint8))
        return torch.from_numpy(predictor.scores(items))

    ref = Occlusion(forward).attribute(
        torch.from_numpy(image.astype(np.float64))[None], sliding_window_shapes=(4, 4, 3),
        strides=(4, 4, 3), baselines=torch.from_numpy(base.astype(np.float64))[None],
        target=1, perturbations_per_eval=64)[0, ::4, ::4, 0].numpy().ravel()
    ours = occlusion(predictor, image, base, ids, 1)
    np.testing.assert_allclose(ours, ref, atol=1e-12)
    assert set(np.argsort(-ours)[:4]) == {0, 1, 8, 9}  # the planted 8x8 corner


def test_planted_rule_deletion_and_insertion_beat_random(planted):
    predictor, images, labels = planted
    r = Attribution(AttributionParams(n_items=24, n_examples=4)).run(
        image_context(predictor, images, labels, seed=0))
    assert r["modality"] == "image" and r["method"] == "occlusion" and r["n_items"] == 24
    assert r["deletion_auc"] < r["random_deletion_auc"] - 0.1
    assert r["insertion_auc"] > r["random_insertion_auc"] + 0.1
    assert r["faithfulness_margin"] > 0.1 and r["faithfulness_margin_ci"][0] > 0
    c = r["curves"]
    assert c["fraction"][0] == 0.0 and c["fraction"][-1] == 1.0 and len(c["fraction"]) == 17
    # every bright-cornered item: the most attributed patch lies in the corner
    for e in r["examples"]:
        heat = np.array(e["heat"])
        assert heat.shape == (8, 8)
        if e["pred"] == "bright":
            assert np.unravel_index(heat.argmax(), heat.shape) in {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert all(Attribution.offers[k].contains(v) for k, v in Attribution.scalars(r).items())
    assert {"deletion_auc", "insertion_auc", "faithfulness_margin"} <= set(Attribution.scalars(r))


def test_a_model_that_ignores_its_input_is_no_better_than_random(planted):
    _, images, labels = planted
    r = Attribution(AttributionParams(n_items=6)).run(
        image_context(Constant(ImageTask("planted", ("dim", "bright"))), images, labels))
    assert r["faithfulness_margin"] == 0.0
    assert r["deletion_auc"] == r["random_deletion_auc"] == pytest.approx(0.7)


@pytest.mark.slow
def test_a_real_fashion_classifier_is_explained_better_than_chance():
    train, y_train = fashion(1000, "train")
    test, y_test = fashion(40)
    predictor = PixelLinear(ImageTask("fashion", tuple(map(str, range(10)))), train, y_train)
    r = Attribution(AttributionParams(n_items=20, patches=7, fill="black")).run(
        image_context(predictor, test, y_test, seed=2))
    assert r["patches"] == 7 and r["n_items"] == 20
    assert r["deletion_auc"] < r["random_deletion_auc"]
    assert r["insertion_auc"] > r["random_insertion_auc"]
    assert r["faithfulness_margin_ci"][0] > 0


def test_sections_show_numbers_and_painted_thumbnails(planted):
    predictor, images, labels = planted
    r = Attribution(AttributionParams(n_items=6, n_examples=2)).run(
        image_context(predictor, images, labels))
    rows = [AnalysisRow("k", "c", "attribution", "pixels", "planted", "probe", 0, {}, r, "0",
                        0.0, 0.0)]
    (section,) = Attribution.sections(rows)
    (table,) = section.written()
    assert [c.name for c in table.columns][3:5] == ["deletion_auc", "insertion_auc"]
    assert section.examples is not None and len(section.examples.rows) == 2
    painted = section.examples.rows[0].cells[4]
    assert painted.kind == "image" and painted.value.startswith(b"\x89PNG")
    (plot,) = section.plots
    assert plot.kind == "faithfulness-curves" and plot.data[0]["task"] == "planted"
    assert plot.data[0]["deletion"] == pytest.approx(r["curves"]["deletion"])
    from adapteval.report.image_plots import faithfulness_curves

    svg = faithfulness_curves(plot.data)
    assert svg.startswith("<svg") and "insertion" in svg


def test_image_settings_leave_text_keys_alone():
    assert "patches" not in Attribution().config() and "fill" not in Attribution().config()
    assert Attribution.from_params({"patches": 4}).config()["patches"] == 4
    blurred = Attribution.from_params({"fill": "blur"}).config()
    again = Attribution.from_params({k: v for k, v in blurred.items() if k != "name"})
    assert again.config() == blurred and again.params.fill == "blur"
