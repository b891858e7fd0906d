"""How much can the adapted model shrink? A compression sweep, re-evaluated level by level.

Levels (parameters): global magnitude pruning at each ``magnitude`` fraction, the top
``drop_layers`` transformer layers removed, and dynamic ``int8`` quantization (see
``adapteval.models.compress``). Each level is evaluated as the strategy would use it:

- frozen strategies (probe, k-shot): the cell's texts are re-encoded by the compressed
  encoder and the head is refitted with the same strategy parameters and seed. The
  embeddings go through the run's embedding cache under a key of (model, level), so a
  rerun (after a kill, or with more levels) encodes only levels it has not seen; each
  level says how many embeddings it reused. Cost: one encoding pass of the task per level.
- trained strategies (finetune, LoRA): a compressed copy of the fine-tuned encoder (LoRA
  adapters merged first) predicts the test split with the trained head.

Per level: ``sparsity`` (share of exact zeros in the Linear weights, counted), the
primary metric (key ``accuracy`` whatever the metric; ``metric`` names it) and
``retention`` = score / uncompressed score (inverted for lower-is-better metrics). The
uncompressed level is the cell itself, so its retention is exactly 1. With
``robustness: true`` each level also reports accuracy and flip rate under a few text
perturbations (classification tasks); with ``fairness: true`` the counterfactual analysis's
flip rate and probability gap when gendered words and names are swapped
(``counterfactual_flip_rate``, ``counterfactual_abs_gap``) and, when the task has a
``group`` column, fairlearn's per-group numbers (``largest_gap``,
``demographic_parity_difference``, ``equalized_odds_difference``); with ``cost: true``
the cost analysis's numbers for the level (disk size: its saved state dict; int8 weights
are stored as int8). The uncompressed level of these numbers equals what the
``counterfactual`` and ``fairness`` analyses report for the same cell.

Summary: ``retention_auc`` is the area under retention over magnitude sparsity, by the
trapezoid rule over [0, highest sparsity], divided by that sparsity (1.0 = nothing lost
anywhere on the curve); ``max_sparsity_99`` / ``max_sparsity_95`` are the highest
sparsity up to which every magnitude level keeps >= 99 % / 95 % of the score.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field, field_validator

from adapteval.analyses.compression_view import (
    ALONG,
    RETENTION,
    curve_digest,
    curve_section,
    report_tables,
)
from adapteval.analyses.cost import MB, CostParams, memory_mb, sample_texts, timings
from adapteval.analyses.counterfactual import gender_swap_effect
from adapteval.analyses.fairness import fairlearn_point
from adapteval.contracts.analysis import ANALYSES, Analysis, AnalysisContext, AnalysisRow
from adapteval.contracts.section import PlotSpec, Section
from adapteval.contracts.strategy import CellContext, Predictions, Predictor
from adapteval.core.errors import ConfigError
from adapteval.core.keys import content_key, item_key
from adapteval.core.plugin import IMAGE, UNIT, Number, Params
from adapteval.features import Embedder
from adapteval.metrics import Metric, metrics_for
from adapteval.models.compress import (
    CONVOLUTIONAL,
    Level,
    compressed,
    int8_share,
    parameter_counts,
    state_dict_bytes,
    sweep,
    weight_sparsity,
)
from adapteval.models.kinds import MODEL_KINDS
from adapteval.perturbations.registry import list_perturbations, perturb_texts

if TYPE_CHECKING:
    import pandas as pd

    from adapteval.plan import Cell, Plan

THRESHOLDS = (0.99, 0.95)


class CompressionParams(Params):
    magnitude: list[float] = Field(
        default_factory=lambda: [0.0, 0.3, 0.5, 0.7, 0.9],
        description="fractions of Linear weights pruned (global, by magnitude)",
    )
    drop_layers: list[int] = Field(default_factory=list, description="top layers removed")
    int8: bool = Field(default=True, description="dynamic int8 quantization of Linear layers "
                       "(by default left out for convolutional models: EfficientNet-Lite)")
    robustness: bool = Field(default=False, description="flip rate under perturbations per level")
    fairness: bool = Field(default=False, description="gender-swap flips and group gaps per level")
    perturbations: list[str] = Field(default_factory=lambda: ["typos", "drop_words"],
                                     min_length=1)
    cost: bool = Field(default=False, description="cost numbers per level (slower)")

    @field_validator("magnitude")
    @classmethod
    def _fractions(cls, value: list[float]) -> list[float]:
        if any(not 0 <= v < 1 for v in value):
            raise ValueError("each magnitude level must be a fraction in [0, 1), e.g. 0.5")
        return sorted(set(value))

    @field_validator("drop_layers")
    @classmethod
    def _layers(cls, value: list[int]) -> list[int]:
        if any(v < 1 for v in value):
            raise ValueError("each drop_layers entry must be a number of layers >= 1")
        return sorted(set(value))

    @field_validator("perturbations")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in list_perturbations()]
        if unknown:
            raise ValueError(f"unknown perturbation {unknown[0]!r}; use "
                             f"{', '.join(list_perturbations())}")
        return value


def primary_metric(cell: Cell, plan: Plan | None) -> Metric:
    requested = plan.suite.metrics if plan is not None else None
    return metrics_for(cell.task.type, requested)[0]


def metric_value(metric: Metric, preds: Predictions, n_classes: int | None) -> float:
    """The metric averaged over experiments, as ``metrics.score`` computes it."""
    values = []
    for e in range(preds.y_pred.shape[0]):
        proba = preds.proba[e] if preds.proba is not None else None
        if metric.task == "classification":
            values.append(float(metric.compute(preds.y_true, preds.y_pred[e], proba, n_classes)))
        else:
            values.append(float(metric.compute(preds.y_true, preds.y_pred[e], proba)))
    return float(np.mean(values))


def retention(value: float, base: float, higher_is_better: bool) -> float | None:
    num, den = (value, base) if higher_is_better else (base, value)
    return num / den if den else None


def level_embedder(
    ctx: AnalysisContext, encoder: Any, level: Level
) -> tuple[Callable, dict[str, int]]:
    """An embedder for the compressed encoder, and how many of the cell's texts it already
    had embeddings for; cached on disk when the run has a cache (the executor's Embedder)."""
    texts = cell_texts(ctx)
    if not isinstance(ctx.embed, Embedder):
        return (lambda batch: encoder.encode(batch)), {"texts": len(texts), "reused_embeddings": 0}
    base = ctx.cell.model
    ref = dataclasses.replace(
        base, label=f"{base.label} · {level.label}",
        fingerprint=content_key({"fp": base.fingerprint, "compression": level.config()}),
    )
    embed = Embedder(encoder, ref, ctx.embed.cache, ctx.embed.reporter)
    reused = len(embed.cache.get(ref.key, [item_key(t) for t in texts], encoder.dim))
    embed(texts)  # one length-sorted pass over the whole cell, as the executor does
    return embed, {"texts": len(texts), "reused_embeddings": reused}


def cell_texts(ctx: AnalysisContext) -> list[Any]:
    """The cell's distinct items (texts, or images by content), in first-seen order."""
    views = [ctx.split.train, ctx.split.test]
    return list({item_key(t): t for v in views for t in v.items + (v.pairs or [])}.values())


def refit_frozen(
    ctx: AnalysisContext, level: Level, module: Any
) -> tuple[Predictor | None, Predictions, dict[str, Any]]:
    """Re-encode with the compressed encoder and refit the cell's strategy on it."""
    encoder = copy.copy(ctx.model)
    encoder.model = module
    embed, counts = level_embedder(ctx, encoder, level)
    cell = ctx.cell
    lctx = CellContext(cell.task, ctx.split, encoder, cell.seed, embed, ctx.progress)
    fitted = cell.strategy.fit(lctx)
    return fitted.predictor, fitted.predictions, counts


def evaluate_trained(ctx: AnalysisContext, module: Any) -> tuple[Predictor, Predictions]:
    """The fine-tuned model with its encoder swapped for ``module``, on the test split."""
    trained = ctx.predictor
    task_model = trained.model
    memo: dict[int, Any] = {id(task_model.encoder): module}
    owner = getattr(task_model.pool, "__self__", None)  # the shared frozen encoder
    if owner is not None:
        memo[id(owner)] = owner
    predictor = copy.copy(trained)
    predictor.model = copy.deepcopy(task_model, memo)
    test = ctx.split.test
    out = predictor.scores(test.items, test.pairs)
    if predictor.regression:
        preds = Predictions(test.y, np.asarray(out)[None], None, test.rows)
    else:
        preds = Predictions(test.y, out.argmax(1)[None], out[None], test.rows)
    return predictor, preds


def robustness_at(predictor: Predictor, ctx: AnalysisContext, names: list[str]) -> dict[str, Any]:
    """Accuracy and flip rate (share of test predictions that change) per perturbation."""
    test = ctx.split.test
    clean = predictor.predict(test.items, test.pairs)
    out = []
    for name in names:
        texts = perturb_texts(test.items, name, seed=ctx.cell.seed)
        pred = predictor.predict(texts, test.pairs)
        out.append({"name": name, "accuracy": float((pred == test.y).mean()),
                    "flip_rate": float((pred != clean).mean())})
    return {"flip_rate": float(np.mean([p["flip_rate"] for p in out])), "perturbations": out}


def fairness_at(predictor: Predictor, preds: Predictions, ctx: AnalysisContext
                ) -> dict[str, Any]:
    """The gender-swap effect on the whole test split and, when the task has a group
    column with 2+ groups, the group metrics of the level's predictions (fairlearn,
    averaged over experiments as the fairness analysis does)."""
    test, cell = ctx.split.test, ctx.cell
    swap = gender_swap_effect(predictor, cell, test, np.arange(len(test.items)), cell.seed)
    out: dict[str, Any] = {"counterfactual_flip_rate": swap["flip_rate"],
                           "counterfactual_abs_gap": swap["mean_abs_gap"],
                           "counterfactual_pairs": swap["n_pairs"]}
    if test.groups is not None and len(set(map(str, test.groups))) > 1:
        groups = np.asarray(test.groups).astype(str)
        y = np.asarray(preds.y_true, dtype=np.int64)
        points = [fairlearn_point(y, pred, groups, len(cell.task.classes or ()))
                  for pred in preds.y_pred.astype(np.int64)]
        for key in ("largest_gap", "demographic_parity_difference", "equalized_odds_difference"):
            out[key] = float(np.mean([p[key] for p in points]))
    return out


def level_cost(ctx: AnalysisContext, module: Any) -> dict[str, Any]:
    """The cost analysis's numbers for one level, but peak memory (``add_memory``); disk
    size is the level's saved state dict."""
    p = CostParams()
    encoder = copy.copy(ctx.model)
    encoder.model = module
    texts = sample_texts(ctx.split.test.items, p.n_texts)
    total, nonzero = parameter_counts(module)
    return {"params": total, "params_nonzero": nonzero,
            "disk_mb": state_dict_bytes(module) / MB,
            **timings(lambda b: encoder.encode(b, batch_size=len(b)), texts, p)}


def add_memory(ctx: AnalysisContext, levels: list[dict[str, Any]]) -> None:
    """Peak memory of every level, in one measuring subprocess. It rebuilds each level
    from the pretrained weights: same shapes and dtypes as the cell's compressed model, so
    the same memory, without writing fine-tuned weights anywhere."""
    p = CostParams()
    texts = sample_texts(ctx.split.test.items, p.n_texts)
    configs = [{"method": lv["method"], "amount": lv["amount"]} for lv in levels]
    for lv, mem in zip(levels, memory_mb(ctx.cell.model, texts, p.batch_size, levels=configs),
                       strict=True):
        lv["cost"].update(mem)


def curve_summary(levels: list[dict[str, Any]]) -> dict[str, Any]:
    """Area under retention over magnitude sparsity, and the thresholds it keeps."""
    mag = sorted((lv for lv in levels if lv["method"] == "magnitude"),
                 key=lambda lv: lv["amount"])
    out: dict[str, Any] = {"retention_auc": None}
    xs = [lv["sparsity"] for lv in mag]
    ys = [lv["retention"] for lv in mag]
    if len(mag) > 1 and None not in ys and xs[-1] > 0:
        out["retention_auc"] = float(np.trapezoid(ys, xs) / xs[-1])
    for t in THRESHOLDS:
        kept = 0.0
        for x, y in zip(xs, ys, strict=True):
            if y is None or y < t:
                break
            kept = x
        out[f"max_sparsity_{round(t * 100)}"] = kept
    for lv in levels:
        if lv["method"] == "int8":
            out["int8_retention"] = lv["retention"]
    return out


@ANALYSES.register
class Compression(Analysis):
    name = "compression"
    description = "retention under magnitude pruning, dropped layers and int8 quantization"
    Params = CompressionParams
    offers = {**dict.fromkeys(("retention_auc", "max_sparsity_99", "max_sparsity_95"), UNIT),
              "int8_retention": Number()}

    def applies(self, cell: Cell) -> str | None:
        if not MODEL_KINDS.get(cell.model.kind).torch_weights:
            return (f"compression needs a Hugging Face (torch) encoder; {cell.model.label!r} "
                    f"is {cell.model.kind}")
        if cell.task.modality == IMAGE and (self.params.robustness or self.params.fairness):
            return ("per-level robustness and gender swaps edit texts; on an image task set "
                    "robustness and fairness to false")
        if cell.strategy.frozen and not cell.strategy.embeds:
            return (f"compression of a prompted model is not measured yet ({cell.strategy.name}); "
                    "it applies to probes and trained models")
        placement = cell.model.placement
        if placement is not None and placement.key:  # int8 dynamic quantization: CPU float32
            return (f"compression runs on CPU float32 models; {cell.model.label!r} computes on "
                    f"{placement.device} in {placement.dtype}")
        return None

    def check(self, plan: Plan, *, where: str) -> None:
        p: CompressionParams = self.params  # type: ignore[assignment]
        mine = [ref for ref in plan.models if self.models is None or ref.label in self.models]
        if p.int8 and "int8" in p.model_fields_set:  # by default int8 skips such models
            for ref in mine:
                if ref.kind in CONVOLUTIONAL:
                    raise ConfigError(
                        f"int8 dynamic quantization converts Linear layers, and {ref.label!r} "
                        f"({ref.kind}) computes its features with convolutions only: the level "
                        "would measure nothing", where=f"{where}.int8", value=True,
                        fix="set int8: false (magnitude levels prune its convolutions), or "
                            "list the models it applies to under models:")
        if not p.drop_layers:
            return
        for ref in mine:
            if not MODEL_KINDS.get(ref.kind).torch_weights or ref.folder is None:
                continue
            n = json.loads((ref.folder / "config.json").read_text()).get("num_hidden_layers")
            if isinstance(n, int) and max(p.drop_layers) >= n:
                raise ConfigError(
                    f"drop_layers {max(p.drop_layers)} leaves no layer of {ref.label!r} "
                    f"({n} layers)", where=where, value=p.drop_layers,
                    fix=f"drop at most {n - 1} layers",
                )

    def run(self, ctx: AnalysisContext) -> dict[str, Any]:
        p: CompressionParams = self.params  # type: ignore[assignment]
        cell = ctx.cell
        metric = primary_metric(cell, ctx.plan)
        k = len(cell.task.classes) if cell.task.classes else None
        base = metric_value(metric, ctx.predictions, k)
        frozen = cell.strategy.frozen
        base_module = ctx.model.model if frozen else ctx.predictor.model.encoder
        levels = sweep(p.magnitude, p.drop_layers, p.int8 and int8_share(base_module) > 0)
        out = []
        for i, level in enumerate(levels):
            ctx.step(f"compression: {level.label}", i, len(levels))
            module = compressed(base_module, level)
            entry: dict[str, Any] = {**level.config(), "label": level.label,
                                     "sparsity": weight_sparsity(module)}
            if level.is_identity:
                predictor, preds = ctx.predictor, ctx.predictions
            elif frozen:
                predictor, preds, extra = refit_frozen(ctx, level, module)
                entry.update(extra)
            else:
                predictor, preds = evaluate_trained(ctx, module)
            value = metric_value(metric, preds, k)
            entry.update(metric=metric.name, accuracy=value,
                         retention=retention(value, base, metric.higher_is_better))
            if p.robustness and predictor is not None and not cell.task.is_regression:
                entry["robustness"] = robustness_at(predictor, ctx, p.perturbations)
                entry["flip_rate"] = entry["robustness"]["flip_rate"]
            if p.fairness and predictor is not None and not cell.task.is_regression:
                entry.update(fairness_at(predictor, preds, ctx))
            if p.cost:
                entry["cost"] = level_cost(ctx, module)
            out.append(entry)
            del module
        if p.cost:
            ctx.step("compression: memory", 0, 1)
            add_memory(ctx, out)
        return {"metric": metric.name, "base_score": base, "levels": out,
                **curve_summary(out)}

    @classmethod
    def curve(cls, rows: list[AnalysisRow]) -> pd.DataFrame:
        """One line per model, strategy, task and level: means over seeds."""
        import pandas as pd

        recs = [{"model": r.model, "strategy": r.strategy, "task": r.task,
                 "level": lv.get("label"), "sparsity": lv.get("sparsity"),
                 "score": lv.get("accuracy"), "retention": lv.get("retention"),
                 **{k: lv.get(k) for k in ALONG},
                 "latency_ms_p50": (lv.get("cost") or {}).get("latency_ms_p50"),
                 "disk_mb": (lv.get("cost") or {}).get("disk_mb")}
                for r in rows for lv in r.result["levels"]]
        frame = pd.DataFrame(recs)
        if frame.empty:
            return frame
        keys = ["model", "strategy", "task", "level"]
        return frame.groupby(keys, sort=False).mean(numeric_only=True).reset_index()

    @classmethod
    def sections(cls, rows: list[AnalysisRow], results: Any = None) -> list[Section]:
        """The headline numbers, then the retention curve: one line per level."""
        data = curve_digest(rows)
        if data is None:
            return []
        out = [cls.section(rows, data, title="Compression", part="compression",
                           report_tables=report_tables(data),
                           plots=[PlotSpec("retention-curves", RETENTION, data["curves"])]
                           if data["curves"] else [])]
        return [*out, curve_section(cls.curve(rows))] if out[0].tables else out
