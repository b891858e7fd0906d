"""Robustness: accuracy and prediction flips under seeded, label-preserving text edits,
or, on image tasks, under seeded image corruptions at severities 1 to 5
(:mod:`adapteval.analyses.robustness_images`; the same headline numbers, so one
acceptance rule reads both).

Each test text is perturbed by each chosen perturbation of :mod:`adapteval.perturbations.registry`
(built-ins and any the user registered) and scored again by the cell's own predictor.
An item's edit is drawn from ``(cell seed, task row id, perturbation name)``, so it is
the same in every run and does not depend on which other items are analysed. Only texts
an edit actually changed are scored again: an unchanged text keeps its clean prediction,
which makes cheap perturbations (lower case on lower-case data) cost nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field, field_validator

from adapteval.analyses._common import (
    chosen_items,
    class_name,
    classification_only,
    newer_at_default,
    sub_pairs,
)
from adapteval.analyses.robustness_images import run_images, severity_digest, severity_parts
from adapteval.contracts import digest as dg
from adapteval.contracts.analysis import (
    ANALYSES,
    CLASSIFICATION,
    Analysis,
    AnalysisContext,
    AnalysisRow,
)
from adapteval.contracts.section import PlotSpec, Section
from adapteval.core.errors import ConfigError
from adapteval.core.plugin import IMAGE, TEXT, TEXT_PAIR, UNIT, UNIT_LOWER, Number, Params
from adapteval.perturbations.images import BUILTIN_CORRUPTIONS, SEVERITIES, get_corruption
from adapteval.perturbations.registry import (
    BUILTIN_PERTURBATIONS,
    get_perturbation,
    perturbation_rng,
)


class RobustnessParams(Params):
    perturbations: list[str] = Field(
        default_factory=lambda: sorted(BUILTIN_PERTURBATIONS), min_length=1,
        description="text tasks: registered perturbation names; default: every built-in",
    )
    corruptions: list[str] = Field(
        default_factory=lambda: sorted(BUILTIN_CORRUPTIONS), min_length=1,
        description="image tasks: registered corruption names; default: every built-in",
    )
    severities: list[int] = Field(
        default_factory=lambda: list(SEVERITIES), min_length=1,
        description="image tasks: corruption severities (1 to 5) to run",
    )
    rate: float | None = Field(
        default=None, ge=0.0, le=1.0,
        description="severity for perturbations that take one; default: each one's own",
    )
    max_items: int | None = Field(default=None, ge=1, description="None: the whole test split")
    n_examples: int = Field(default=3, ge=0, description="examples kept per perturbation")

    @field_validator("perturbations", "corruptions", "severities")
    @classmethod
    def _distinct(cls, value: list[Any], info: Any) -> list[Any]:
        dupes = sorted({v for v in value if value.count(v) > 1})
        if dupes:
            raise ValueError(f"{info.field_name} must be distinct; {dupes[0]!r} appears twice")
        if info.field_name == "severities" and any(v not in SEVERITIES for v in value):
            raise ValueError("every severity must be an int from 1 to 5")
        return value


@ANALYSES.register
class Robustness(Analysis):
    name = "robustness"
    description = ("accuracy, drop and prediction flip rate under seeded text perturbations, "
                   "or image corruptions at severities 1-5")
    Params = RobustnessParams
    modalities = frozenset({TEXT, TEXT_PAIR, IMAGE})  # a pair's second text stays
    task_types = CLASSIFICATION
    offers = {"clean_accuracy": UNIT,
              "mean_drop": Number(-1.0, 1.0, higher_is_better=False),
              "worst_drop": Number(-1.0, 1.0, higher_is_better=False),
              "flip_rate": UNIT_LOWER}
    params: RobustnessParams

    def config(self) -> dict[str, Any]:
        """The image settings count only where set, so text results stored before they
        existed keep their keys."""
        return newer_at_default(super().config(), self.params, ("corruptions", "severities"))

    def check(self, plan: Any, *, where: str) -> None:
        for name in self.params.perturbations:
            try:
                get_perturbation(name)
            except ConfigError as err:
                raise ConfigError(err.what, where=f"{where}.perturbations", fix=err.fix) from None
        for name in self.params.corruptions:
            try:
                get_corruption(name)
            except ConfigError as err:
                raise ConfigError(err.what, where=f"{where}.corruptions", fix=err.fix) from None

    def applies(self, cell: Any) -> str | None:
        return classification_only(cell, "robustness (accuracy and flips)")

    def run(self, ctx: AnalysisContext) -> dict[str, Any]:
        assert ctx.predictor is not None
        if ctx.cell.task.modality == IMAGE:
            return run_images(self.params, self.name, ctx)
        test, seed = ctx.split.test, ctx.cell.seed
        idx = chosen_items(test, self.params.max_items, seed, self.name)
        texts, pairs = [test.items[i] for i in idx], sub_pairs(test, idx)
        y, rows = np.asarray(test.y[idx]), test.rows[idx]
        clean = ctx.predictor.predict(texts, pairs)
        clean_acc = float(np.mean(clean == y))
        names = self.params.perturbations
        results, examples = [], []
        for step, name in enumerate(names):
            ctx.step(f"robustness: {name}", step, len(names))
            perturbed = self._perturb(name, texts, rows, seed)
            changed = np.flatnonzero([a != b for a, b in zip(texts, perturbed, strict=True)])
            pred = clean.copy()
            if len(changed):
                pred[changed] = ctx.predictor.predict(
                    [perturbed[i] for i in changed],
                    [pairs[i] for i in changed] if pairs is not None else None,
                )
            acc = float(np.mean(pred == y))
            results.append({
                "name": name, "accuracy": acc, "drop": clean_acc - acc,
                "flip_rate": float(np.mean(pred != clean)),
                "changed_fraction": len(changed) / len(texts),
                "flip_rate_changed": float(np.mean(pred[changed] != clean[changed]))
                if len(changed) else None,
            })
            examples += self._examples(ctx, name, changed, texts, perturbed, y, clean, pred)
        ctx.step("robustness", len(names), len(names))
        drops = [r["drop"] for r in results]
        return {
            "clean_accuracy": clean_acc,
            "stored_accuracy": float(np.mean(ctx.predictions.y_pred[:, idx] == y)),
            "mean_drop": float(np.mean(drops)),
            "worst_drop": float(np.max(drops)),
            "worst_perturbation": results[int(np.argmax(drops))]["name"],
            "flip_rate": float(np.mean([r["flip_rate"] for r in results])),
            "n_items": len(texts),
            "rate": self.params.rate,
            "perturbations": results,
            "examples": examples,
        }

    def _perturb(self, name: str, texts: list[str], rows: np.ndarray, seed: int) -> list[str]:
        perturbation = get_perturbation(name)
        rate = self.params.rate if perturbation.takes_rate else None
        return [
            perturbation(text, perturbation_rng(seed, int(row), name), rate=rate)
            for text, row in zip(texts, rows, strict=True)
        ]

    def _examples(
        self, ctx: AnalysisContext, name: str, changed: np.ndarray, texts: list[str],
        perturbed: list[str], y: np.ndarray, clean: np.ndarray, pred: np.ndarray,
    ) -> list[dict[str, Any]]:
        """A few changed items, those whose prediction flipped first."""
        order = sorted(changed.tolist(), key=lambda i: (pred[i] == clean[i], i))
        cell = ctx.cell
        return [
            {"perturbation": name, "original": texts[i], "perturbed": perturbed[i],
             "label": class_name(cell, y[i]), "before": class_name(cell, clean[i]),
             "after": class_name(cell, pred[i])}
            for i in order[: self.params.n_examples]
        ]

    @classmethod
    def sections(cls, rows: list[AnalysisRow], results: Any = None) -> list[Section]:
        """Headline numbers, the drop per perturbation (plot) and a few examples."""
        data = digest(rows)
        if data is None:
            return []
        tables = [dg.table(data["summary"], ["model", "strategy", "task", "clean_accuracy",
                                             "mean_drop", "worst_drop", "flip_rate", "n_seeds"])]
        plots = [PlotSpec("robustness-drops", "Accuracy drop per perturbation or corruption "
                          "(mean over severities, tasks and seeds)", data["perturbations"])] \
            if data["perturbations"] else []
        examples = dg.examples_table(data["examples"])
        notes = []
        if (images := data.get("images")) is not None:
            more, curves, examples_images = severity_parts(images)
            images["examples"] = [{k: "[image]" if k.endswith("_image") else v
                                   for k, v in e.items()} for e in images["examples"]]
            tables += more
            plots += curves
            examples = examples or examples_images
            notes.append("Image tasks: each corruption at each severity; a cell reads "
                         "accuracy (flip rate), the mean row averages the corruptions.")
        return [cls.section(
            rows, data, title="Robustness", part="acceptability",
            intro="Accuracy drop from clean inputs under each perturbation (text) or "
            "corruption (images), and the share of predictions that flip.",
            plots=plots, report_tables=tables, examples=examples, notes=notes)]


def digest(rows: dg.Rows) -> dict[str, Any] | None:
    """The report's part: headline numbers, the drop per perturbation and a few examples."""
    summary = dg.averaged(rows, ("clean_accuracy", "mean_drop", "worst_drop", "flip_rate"))
    per: list[dict[str, Any]] = []
    flat = [{"model": r.model, "strategy": r.strategy, **p}
            for r in rows for p in r.result.get("perturbations") or [] if "name" in p]
    for (model, strategy, name), ps in dg.grouped(flat, ("model", "strategy", "name")).items():
        per.append({"model": model, "strategy": strategy, "name": name,
                    **{f: dg.mean(p.get(f) for p in ps)
                       for f in ("accuracy", "drop", "flip_rate", "changed_fraction")}})
    if not summary:
        return None
    text = [r for r in rows if r.result.get("modality") != IMAGE]
    images = severity_digest([r for r in rows if r.result.get("modality") == IMAGE])
    return {"summary": summary, "perturbations": per, "examples": dg.examples(text),
            **({"images": images} if images is not None else {})}
