"""Pixel attributions of image tasks and how faithful they are: the part of the attribution
analysis that image tasks run.

The image is cut into a grid of patches (``patches`` per side). Each patch's attribution is
the drop in the predicted class's probability when the patch alone is filled
(``fill``: the image's mean colour, black, or a strongly blurred copy), computed by captum's
``FeatureAblation`` with a patch feature mask through ``predictor.scores``: no gradients,
so it explains any image predictor (a probe on frozen features, a fine-tuned network, a
pixel baseline).

Faithfulness follows the deletion and insertion metrics of RISE (Petsiuk et al., BMVC
2018): patches are filled (deletion) or revealed on the filled image (insertion) in order
of attribution, most attributed first, and the predicted class's probability is traced
against the fraction of patches moved; the area under the curve is low for a faithful
deletion and high for a faithful insertion. The same curves are drawn with a seeded
random patch order, and ``faithfulness_margin`` (the mean over items of the deletion and
insertion gains over random) says how much better than chance the attributions are.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adapteval.analyses._common import bootstrap_mean_ci, chosen_items, class_name
from adapteval.contracts import digest as dg
from adapteval.contracts.analysis import AnalysisContext
from adapteval.contracts.images import from_text, image_cell, overlay, to_text
from adapteval.contracts.section import PlotSpec, SectionTable, columns
from adapteval.contracts.strategy import Predictor

FIELDS = ("deletion_auc", "insertion_auc", "random_deletion_auc", "random_insertion_auc",
          "faithfulness_margin")


def patch_ids(height: int, width: int, patches: int) -> np.ndarray:
    """(height, width) patch numbers of a ``patches`` x ``patches`` grid (fewer on an image
    smaller than the grid), row by row."""
    gh, gw = min(patches, height), min(patches, width)
    rows = np.arange(height) * gh // height
    cols = np.arange(width) * gw // width
    return rows[:, None] * gw + cols[None, :]


def filled(image: np.ndarray, fill: str) -> np.ndarray:
    """What a removed patch shows: the image's mean colour, black, or a blurred copy."""
    if fill == "black":
        return np.zeros_like(image)
    if fill == "blur":
        from scipy.ndimage import gaussian_filter

        sigma = max(image.shape[:2]) / 8
        blurred = gaussian_filter(image.astype(np.float64), sigma=(sigma, sigma, 0))
        return np.clip(np.rint(blurred), 0, 255).astype(np.uint8)
    mean = np.rint(image.reshape(-1, 3).mean(0)).astype(np.uint8)
    return np.broadcast_to(mean, image.shape).copy()


def occlusion(predictor: Predictor, image: np.ndarray, base: np.ndarray, ids: np.ndarray,
              target: int) -> np.ndarray:
    """Per patch, the predicted-class probability lost when the patch alone is filled
    (captum ``FeatureAblation``, one predictor call for every patch)."""
    import torch
    from captum.attr import FeatureAblation

    def forward(x: torch.Tensor) -> torch.Tensor:
        items = list(np.clip(np.rint(x.detach().numpy()), 0, 255).astype(np.uint8))
        return torch.from_numpy(np.asarray(predictor.scores(items, None), dtype=np.float64))

    n = int(ids.max()) + 1
    mask = torch.from_numpy(np.repeat(ids[..., None], 3, axis=-1))[None]
    attr = FeatureAblation(forward).attribute(
        torch.from_numpy(image.astype(np.float64))[None],
        baselines=torch.from_numpy(base.astype(np.float64))[None], target=target,
        feature_mask=mask, perturbations_per_eval=n)
    per_pixel = attr[0, ..., 0].numpy()
    first = np.unique(ids.ravel(), return_index=True)[1]
    return per_pixel.ravel()[first]


def curves(predictor: Predictor, image: np.ndarray, base: np.ndarray, ids: np.ndarray,
           orders: list[np.ndarray], target: int, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """(fractions moved, probabilities (order, deletion/insertion, step)) of the
    predicted class as patches are filled or revealed in each order."""
    n = int(ids.max()) + 1
    ks = np.unique(np.rint(np.linspace(0, n, min(steps, n) + 1)).astype(int))
    variants = []
    for order in orders:
        for k in ks:
            moved = np.isin(ids, order[:k])[..., None]
            variants += [np.where(moved, base, image), np.where(moved, image, base)]
    p = np.asarray(predictor.scores(variants, None))[:, target]
    return ks / n, p.reshape(len(orders), len(ks), 2).transpose(0, 2, 1)


def run_images(p: Any, ctx: AnalysisContext) -> dict[str, Any]:
    """The attribution result of an image cell (see the module docstring)."""
    predictor = ctx.predictor
    assert predictor is not None
    test, seed = ctx.split.test, ctx.cell.seed
    idx = chosen_items(test, p.n_items, seed, "attribution")
    rng = np.random.default_rng([seed, 7])
    images = [test.items[i] for i in idx]
    full = np.asarray(predictor.scores(images, None))
    target = full.argmax(1)
    aucs, curve_sum, examples = [], None, []
    for j, image in enumerate(images):
        ids = patch_ids(*image.shape[:2], p.patches)
        base = filled(image, p.fill)
        scores = occlusion(predictor, image, base, ids, int(target[j]))
        order = np.argsort(-scores, kind="stable")
        frac, prob = curves(predictor, image, base, ids, [order, rng.permutation(len(scores))],
                            int(target[j]), p.curve_steps)
        aucs.append(np.trapezoid(prob, frac, axis=-1))  # (attributed/random, del/ins)
        curve_sum = prob if curve_sum is None else curve_sum + prob
        if j < p.n_examples:
            gw = int(ids[0].max()) + 1
            gh = int(ids.max()) // gw + 1
            examples.append({"image": to_text(image),
                             "heat": np.round(scores.reshape(gh, gw), 5).tolist(),
                             "label": class_name(ctx.cell, test.y[idx[j]]),
                             "pred": class_name(ctx.cell, target[j]),
                             "p_pred": float(full[j, target[j]])})
        ctx.step("attribution (occlusion on patches)", j + 1, len(images))
    a = np.array(aucs)  # (items, attributed/random, deletion/insertion)
    margin = ((a[:, 1, 0] - a[:, 0, 0]) + (a[:, 0, 1] - a[:, 1, 1])) / 2
    lo, hi = bootstrap_mean_ci(margin, rng)
    mean = a.mean(0)
    curve = curve_sum / len(images) if curve_sum is not None else np.zeros((2, 2, 0))
    return {
        "modality": "image", "method": "occlusion", "n_items": len(images),
        "patches": p.patches, "fill": p.fill,
        "deletion_auc": mean[0, 0], "insertion_auc": mean[0, 1],
        "random_deletion_auc": mean[1, 0], "random_insertion_auc": mean[1, 1],
        "faithfulness_margin": float(margin.mean()), "faithfulness_margin_ci": [lo, hi],
        "curves": {"fraction": frac.tolist() if len(images) else [],
                   "deletion": curve[0, 0].tolist(), "insertion": curve[0, 1].tolist(),
                   "random_deletion": curve[1, 0].tolist(),
                   "random_insertion": curve[1, 1].tolist()},
        "examples": examples,
    }


def curve_plots(rows: dg.Rows) -> list[PlotSpec]:
    """Per model and strategy, the mean deletion and insertion curves of each task (over
    seeds whose curves share their points), beside those of random patch orders."""
    keys = ("deletion", "insertion", "random_deletion", "random_insertion")
    out = []
    for (model, strategy), rs in dg.grouped(rows, ("model", "strategy")).items():
        curves = []
        for (task,), ts in dg.grouped(rs, ("task",)).items():
            cs = [r.result.get("curves") or {} for r in ts]
            cs = [c for c in cs if c.get("fraction") and c["fraction"] == cs[0].get("fraction")]
            if cs:
                curves.append({"task": task, "fraction": cs[0]["fraction"],
                               **{k: np.mean([c[k] for c in cs], axis=0).tolist()
                                  for k in keys}})
        if curves:
            out.append(PlotSpec("faithfulness-curves", f"{model} · {strategy}: deletion and "
                                "insertion curves (mean over images and seeds)", curves))
    return out


def image_parts(rows: dg.Rows) -> tuple[list[SectionTable], SectionTable | None]:
    """Deletion and insertion numbers per model, strategy and task, and thumbnails of a
    few images with their attributions painted over them."""
    summary = dg.averaged(rows, FIELDS)
    if not summary:
        return [], None
    table = dg.table(summary, ["model", "strategy", "task", *FIELDS, "n_seeds"],
                     caption="Images: deletion (lower is faithful) and insertion (higher is "
                     "faithful) areas under the predicted-class probability, against random "
                     "patch orders")
    shown = [e for e in dg.examples(rows) if "image" in e]
    if not shown:
        return [table], None
    ex = SectionTable(columns("model", "strategy", "task", "image", "attribution", "label",
                              "predicted", "p(predicted)"), key="examples")
    for e in shown:
        pixels = from_text(e.get("image"))
        heat = np.asarray(e.get("heat") or [[0.0]], dtype=np.float64)
        painted = overlay(pixels, heat) if pixels is not None else None
        ex.add(e["model"], e["strategy"], e["task"],
               image_cell(pixels, f"image, label {e.get('label')}"),
               image_cell(painted, f"attributions towards {e.get('pred')}"),
               str(e.get("label")), str(e.get("pred")), dg.cell(e.get("p_pred")))
    return [table], ex
