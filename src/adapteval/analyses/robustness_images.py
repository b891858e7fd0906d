"""Robustness of image tasks: accuracy and prediction flips under seeded corruptions at
severities 1 to 5 (:mod:`adapteval.perturbations.images`), the part of the robustness
analysis that image tasks run.

Each chosen test image is corrupted by each corruption at each severity and scored again
through the cell's predictor (``scores``), so it works for any image predictor, frozen or
trained. An item's corruption is drawn from ``(cell seed, task row id, corruption name)``:
the same in every run, the same noise or patch position at every severity, independent
of the other items. The result has the text analysis' headline numbers (``clean_accuracy``,
``mean_drop``, ``worst_drop``, ``flip_rate``: means over corruptions and severities; the
drop of a corruption is its mean over severities), so one acceptance rule reads both
modalities, plus accuracy and flip rate per corruption and severity.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adapteval.analyses._common import chosen_items, class_name
from adapteval.contracts import digest as dg
from adapteval.contracts.analysis import AnalysisContext
from adapteval.contracts.images import image_cell, to_text
from adapteval.contracts.section import Cell, PlotSpec, SectionTable, columns
from adapteval.perturbations.images import corruption_rng, get_corruption

EXAMPLE_SEVERITY = 3
"""The severity whose corrupted images the stored examples show."""


def run_images(params: Any, name: str, ctx: AnalysisContext) -> dict[str, Any]:
    """The robustness result of an image cell (see the module docstring)."""
    assert ctx.predictor is not None
    test, seed = ctx.split.test, ctx.cell.seed
    idx = chosen_items(test, params.max_items, seed, name)
    images = [test.items[i] for i in idx]
    y, rows = np.asarray(test.y[idx]), test.rows[idx]
    clean = ctx.predictor.predict(images)
    clean_acc = float(np.mean(clean == y))
    grid, per, examples = [], [], []
    names, severities = params.corruptions, sorted(params.severities)
    total, done = len(names) * len(severities), 0
    for cname in names:
        corruption = get_corruption(cname)
        mine = []
        for severity in severities:
            ctx.step(f"robustness: {cname} {severity}", done, total)
            done += 1
            corrupted = [corruption(img, corruption_rng(seed, int(row), cname), severity)
                         for img, row in zip(images, rows, strict=True)]
            pred = ctx.predictor.predict(corrupted)
            acc = float(np.mean(pred == y))
            mine.append({"name": cname, "severity": severity, "accuracy": acc,
                         "drop": clean_acc - acc, "flip_rate": float(np.mean(pred != clean))})
            if severity == EXAMPLE_SEVERITY or (severity == severities[-1] and not any(
                    e["corruption"] == cname for e in examples)):
                examples += _examples(ctx, params.n_examples, cname, severity, images,
                                      corrupted, y, clean, pred)
        grid += mine
        per.append({"name": cname, "accuracy": dg.mean(m["accuracy"] for m in mine),
                    "drop": dg.mean(m["drop"] for m in mine),
                    "flip_rate": dg.mean(m["flip_rate"] for m in mine),
                    "changed_fraction": 1.0})
    ctx.step("robustness", total, total)
    by_severity = [{"severity": s, **{f: dg.mean(g[f] for g in grid if g["severity"] == s)
                                      for f in ("accuracy", "drop", "flip_rate")}}
                   for s in severities]
    drops = [p["drop"] for p in per]
    return {
        "modality": "image",
        "clean_accuracy": clean_acc,
        "stored_accuracy": float(np.mean(ctx.predictions.y_pred[:, idx] == y)),
        "mean_drop": float(np.mean(drops)),
        "worst_drop": float(np.max(drops)),
        "worst_perturbation": per[int(np.argmax(drops))]["name"],
        "flip_rate": float(np.mean([g["flip_rate"] for g in grid])),
        "n_items": len(images),
        "severities": severities,
        "perturbations": per,
        "by_corruption_severity": grid,
        "by_severity": by_severity,
        "examples": interleaved(examples),
    }


def interleaved(examples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each corruption's first example, then each one's second, ...: a report that shows
    the first few shows several corruptions."""
    rank: dict[str, int] = {}
    keyed = []
    for e in examples:
        rank[e["corruption"]] = rank.get(e["corruption"], -1) + 1
        keyed.append((rank[e["corruption"]], len(keyed), e))
    return [e for *_, e in sorted(keyed, key=lambda k: k[:2])]


def _examples(ctx: AnalysisContext, n: int, name: str, severity: int, images: list[np.ndarray],
              corrupted: list[np.ndarray], y: np.ndarray, clean: np.ndarray,
              pred: np.ndarray) -> list[dict[str, Any]]:
    """A few items per corruption, those whose prediction flipped first, with small
    thumbnails of the clean and corrupted image."""
    order = sorted(range(len(images)), key=lambda i: (pred[i] == clean[i], i))[:n]
    cell = ctx.cell
    return [{"corruption": name, "severity": severity, "clean_image": to_text(images[i]),
             "corrupted_image": to_text(corrupted[i]), "label": class_name(cell, y[i]),
             "before": class_name(cell, clean[i]), "after": class_name(cell, pred[i])}
            for i in order]


def severity_digest(rows: dg.Rows) -> dict[str, Any] | None:
    """Accuracy and flip rate per model, strategy, corruption and severity (mean over
    tasks and seeds), with the mean over corruptions as corruption ``mean``."""
    flat = [{"model": r.model, "strategy": r.strategy, **g}
            for r in rows for g in r.result.get("by_corruption_severity") or []
            if "name" in g and "severity" in g]
    flat += [{"model": r.model, "strategy": r.strategy, "name": "mean", **g}
             for r in rows for g in r.result.get("by_severity") or [] if "severity" in g]
    if not flat:
        return None
    out = [{"model": m, "strategy": s, "name": n, "severity": sev,
            **{f: dg.mean(p.get(f) for p in ps) for f in ("accuracy", "flip_rate")}}
           for (m, s, n, sev), ps in dg.grouped(flat, ("model", "strategy", "name",
                                                       "severity")).items()]
    return {"curves": out,
            "examples": [e for e in dg.examples(rows) if "clean_image" in e]}


def severity_parts(data: dict[str, Any]) -> tuple[list[SectionTable], list[PlotSpec],
                                                  SectionTable | None]:
    """A table of accuracy (and flip rate) per corruption and severity, one curve plot per
    model and strategy, and the examples with their thumbnails."""
    curves = data["curves"]
    severities = sorted({c["severity"] for c in curves})
    table = SectionTable(columns("model", "strategy", "corruption",
                                 *(f"severity {s}" for s in severities),
                                 left=("model", "strategy", "corruption")),
                         caption="Accuracy (flip rate) per corruption and severity, mean over "
                                 "tasks and seeds", key="robustness-severity")
    plots = []
    for (model, strategy), cs in dg.grouped(curves, ("model", "strategy")).items():
        at = {(c["name"], c["severity"]): c for c in cs}
        for name in dict.fromkeys(c["name"] for c in cs):
            table.add(model, strategy, name,
                      *[_acc_flip(at.get((name, s))) for s in severities],
                      strong=name == "mean", new_group=bool(table.rows) and name == cs[0]["name"])
        plots.append(PlotSpec("robustness-severity", f"{model} · {strategy}: accuracy and flip "
                              "rate against corruption severity", cs))
    return [table], plots, _examples_table(data["examples"])


def _acc_flip(point: dict[str, Any] | None) -> Cell:
    if point is None or point.get("accuracy") is None:
        return Cell.na("not run at this severity")
    return Cell.of(point["accuracy"], ".3f", note=None if point.get("flip_rate") is None
                   else f"{point['flip_rate']:.2f}")


def _examples_table(examples: list[dict[str, Any]]) -> SectionTable | None:
    if not examples:
        return None
    t = SectionTable(columns("model", "strategy", "task", "corruption", "clean", "corrupted",
                             "label", "before", "after"), key="examples")
    for e in examples:
        what = f"{e.get('corruption')} at severity {e.get('severity')}"
        t.add(e["model"], e["strategy"], e["task"], what,
              image_cell(e.get("clean_image"), f"clean image, label {e.get('label')}"),
              image_cell(e.get("corrupted_image"), f"{what}, predicted {e.get('after')}"),
              str(e.get("label")), str(e.get("before")), str(e.get("after")))
    return t
