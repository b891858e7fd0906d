"""Token attributions and how faithful they are to the model.

Which words made the model decide? Trained models (finetune, LoRA) are explained with
integrated gradients on the encoder's word embeddings (captum's
``LayerIntegratedGradients``, baseline: every non-special token replaced by [PAD] or
[MASK]); subword scores are summed into whitespace words. Any other predictor (frozen
probe, k-shot, baselines, ONNX) is explained by feature ablation over words through
``predictor.scores``: captum's ``FeatureAblation`` on a word keep-mask, each word's score
being the drop in the predicted class's probability when it is left out.

Attributions are only worth reading if they are faithful. Following ERASER (DeYoung et
al., ACL 2020), for each fraction f of the words the top ⌈f·n⌉ attributed words are
removed (comprehensiveness: how much the predicted class's probability falls; higher
is more faithful) or kept alone (sufficiency: how much it falls; lower is more
faithful), averaged over the fractions. The same is done with randomly chosen words
(seeded), and the margins say how much better than chance the attributions are.

Image tasks are explained by occlusion of pixel patches and judged by deletion and
insertion curves (:mod:`adapteval.analyses.attribution_images`).
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator

from adapteval.analyses._common import bootstrap_mean_ci, newer_at_default
from adapteval.analyses.attribution_images import FIELDS, curve_plots, image_parts, run_images
from adapteval.contracts import digest as dg
from adapteval.contracts.analysis import (
    ANALYSES,
    CLASSIFICATION,
    Analysis,
    AnalysisContext,
    AnalysisRow,
)
from adapteval.contracts.section import PlotSpec, Section
from adapteval.contracts.strategy import Predictor
from adapteval.core.errors import ConfigError
from adapteval.core.plugin import IMAGE, TEXT, TEXT_PAIR, UNIT, UNIT_LOWER, Number, Params

WORD = re.compile(r"\S+")


class AttributionParams(Params):
    n_items: int = Field(default=200, ge=1, description="test items explained (seeded subset)")
    fractions: list[float] = Field(
        default_factory=lambda: [0.1, 0.2, 0.5], min_length=1,
        description="fractions of the words removed / kept for comprehensiveness / sufficiency",
    )
    n_steps: int = Field(default=50, ge=2, le=1000, description="integrated-gradients steps")
    internal_batch_size: int = Field(default=16, ge=1, description="IG interpolations per pass")
    n_examples: int = Field(default=5, ge=0, description="attributed examples kept for reports")
    method: Literal["auto", "integrated_gradients", "occlusion"] = Field(
        default="auto", description="auto: integrated gradients for trained models, else occlusion"
    )
    baseline: Literal["pad", "mask"] = Field(
        default="pad", description="integrated-gradients baseline token"
    )
    max_features: int = Field(
        default=64, ge=1,
        description="occlusion: longer texts are ablated in this many runs of adjacent words",
    )
    patches: int = Field(default=8, ge=2, le=32,
                         description="images: patches per side that occlusion and the "
                         "deletion/insertion curves move")
    fill: Literal["mean", "black", "blur"] = Field(
        default="mean", description="images: what a removed patch shows")
    curve_steps: int = Field(default=16, ge=2, le=1024,
                             description="images: points on the deletion/insertion curves")

    @field_validator("fractions")
    @classmethod
    def _fractions(cls, value: list[float]) -> list[float]:
        if any(not 0 < f <= 1 for f in value):
            raise ValueError("every fraction must be in (0, 1]")
        return value


def words_of(text: str) -> list[re.Match[str]]:
    """Whitespace words with their character spans (attributions are per word)."""
    return list(WORD.finditer(text))


def join(words: list[str], keep: np.ndarray) -> str:
    return " ".join(w for w, k in zip(words, keep, strict=True) if k)


def top_k(n: int, fraction: float) -> int:
    return min(n, max(1, math.ceil(fraction * n)))


@ANALYSES.register
class Attribution(Analysis):
    name = "attribution"
    description = (
        "word attributions (integrated gradients for trained models, occlusion otherwise) "
        "and their ERASER faithfulness against random words; on images, occlusion of pixel "
        "patches and deletion/insertion curves against random patches"
    )
    Params = AttributionParams
    modalities = frozenset({TEXT, TEXT_PAIR, IMAGE})  # words of a pair's first text; pixels
    task_types = CLASSIFICATION
    offers = {"comprehensiveness": Number(-1.0, 1.0),
              "sufficiency": Number(-1.0, 1.0, higher_is_better=False),
              "random_comprehensiveness": Number(-1.0, 1.0),
              "random_sufficiency": Number(-1.0, 1.0, higher_is_better=False),
              "faithfulness_margin": Number(-2.0, 2.0),
              "deletion_auc": UNIT_LOWER, "insertion_auc": UNIT,
              "random_deletion_auc": UNIT_LOWER, "random_insertion_auc": UNIT}

    def config(self) -> dict[str, Any]:
        """The image settings count only where set (text results keep their keys)."""
        return newer_at_default(super().config(), self.params,
                                ("patches", "fill", "curve_steps"))

    def applies(self, cell: Any) -> str | None:
        if cell.task.is_regression:
            return "attribution explains a class probability; the task is regression"
        if cell.task.modality == IMAGE and self.params.method == "integrated_gradients":
            return "on images attribution uses occlusion on pixel patches (method: auto)"
        if self.params.method == "integrated_gradients" and cell.strategy.frozen:
            return "integrated gradients needs a trained model (finetune, lora)"
        return None

    def check(self, plan: Any, *, where: str) -> None:
        import importlib.util

        if importlib.util.find_spec("captum") is None:
            raise ConfigError("the attribution analysis needs the captum package", where=where,
                              fix="pip install captum")
        if self.params.method == "integrated_gradients" and not any(
            self.selected(c) for c in plan.cells
        ):
            text = any(c.task.modality != IMAGE for c in plan.cells)
            raise ConfigError(
                "method integrated_gradients needs a trained strategy (finetune, lora) on a "
                f"{'text ' if not text else ''}classification task", where=f"{where}.method",
                value=self.params.method,
                fix="use method: auto (occlusion of pixel patches on images)" if not text else
                "add finetune or lora to strategies, or use method: auto / occlusion",
            )

    def run(self, ctx: AnalysisContext) -> dict[str, Any]:
        p: AttributionParams = self.params  # type: ignore[assignment]
        predictor = ctx.predictor
        assert predictor is not None
        if ctx.cell.task.modality == IMAGE:
            return run_images(p, ctx)
        test = ctx.split.test
        rng = np.random.default_rng([ctx.cell.seed, 7])
        idx = [i for i in range(len(test)) if WORD.search(test.items[i])]
        if len(idx) > p.n_items:
            idx = sorted(rng.choice(idx, size=p.n_items, replace=False).tolist())
        texts = [test.items[i] for i in idx]
        pairs = [test.pairs[i] for i in idx] if test.pairs is not None else None
        method = p.method
        if method == "auto":
            method = "integrated_gradients" if predictor.kind == "trained" else "occlusion"
        if method == "integrated_gradients" and not getattr(
            getattr(predictor, "tokenizer", None), "is_fast", False
        ):
            method = "occlusion"  # word spans need a fast tokenizer's character offsets
        words = [[m.group() for m in words_of(t)] for t in texts]
        joined = [" ".join(w) for w in words]
        full = predictor.scores(joined, pairs)
        target = full.argmax(1)
        if method == "integrated_gradients":
            scores, extra = integrated_gradients(predictor, texts, pairs, target, p, ctx)
        else:
            scores, extra = occlusion(predictor, words, pairs, target, p, ctx)
        faith = faithfulness(predictor, words, pairs, scores, full, target, p.fractions, rng)
        classes = list(predictor.task.classes or ())
        examples = [
            {"tokens": words[j], "scores": scores[j].tolist(),
             "label": classes[int(test.y[idx[j]])], "pred": classes[int(target[j])],
             "p_pred": float(full[j, target[j]])}
            for j in range(min(p.n_examples, len(idx)))
        ]
        return {"method": method, "n_items": len(idx), "fractions": list(p.fractions),
                **faith, **extra, "examples": examples}

    @classmethod
    def sections(cls, rows: list[AnalysisRow], results: Any = None) -> list[Section]:
        """Faithfulness numbers and a few highlighted examples (``tokens`` plots: text
        with a colour per word)."""
        images = [r for r in rows if r.result.get("modality") == IMAGE]
        data = digest([r for r in rows if r.result.get("modality") != IMAGE])
        tables, examples = image_parts(images)
        curves = curve_plots(images)
        if data is None:
            return [cls.section(rows, {"images": dg.averaged(images, FIELDS)}, title="Attributions",
                                part="acceptability", report_tables=tables, examples=examples,
                                plots=curves, notes=[IMAGE_NOTE])] if tables else []
        shown = dg.table(data["summary"], ["model", "strategy", "task", "method",
                                           "comprehensiveness", "sufficiency",
                                           "random_comprehensiveness", "random_sufficiency",
                                           "faithfulness_margin"])
        plots = [PlotSpec("tokens", f"{e['model']} · {e['strategy']} · {e['task']}", e)
                 for e in data["examples"]]
        if tables:
            data["images"] = dg.averaged(images, FIELDS)
        return [cls.section(rows, data, title="Attributions", part="acceptability",
                            report_tables=[shown, *tables], plots=[*plots, *curves],
                            examples=examples,
                            notes=["Red: pushes towards the predicted class; blue: against "
                                   "it; stronger colour, larger attribution."] if plots else [])]


IMAGE_NOTE = ("Images: each patch's attribution is the predicted-class probability lost when "
              "it is filled; red towards the prediction, blue against it.")


def digest(rows: dg.Rows) -> dict[str, Any] | None:
    """The report's part: faithfulness numbers and a few highlighted examples."""
    fields = ("comprehensiveness", "sufficiency", "random_comprehensiveness",
              "random_sufficiency", "faithfulness_margin")
    summary = dg.averaged(rows, fields)
    if not summary:
        return None
    for rec, rs in zip(summary, dg.grouped(rows, ("model", "strategy", "task")).values(), strict=True):
        rec["method"] = rs[0].result.get("method")
    shown = [{"model": e["model"], "strategy": e["strategy"], "task": e["task"],
              "label": e.get("label"), "pred": e.get("pred"),
              "tokens": highlighted(e.get("tokens") or [], e.get("scores") or [])}
             for e in dg.examples(rows)]
    return {"summary": summary, "examples": shown}


def occlusion(
    predictor: Predictor, words: list[list[str]], pairs: list[str] | None,
    target: np.ndarray, p: AttributionParams, ctx: AnalysisContext,
) -> tuple[list[np.ndarray], dict[str, Any]]:
    """Feature ablation over a word keep-mask: each word's (or run of words') score is the
    predicted-class probability lost when it is left out."""
    import torch
    from captum.attr import FeatureAblation

    out = []
    for j, ws in enumerate(words):
        n = len(ws)
        pair = [pairs[j]] if pairs is not None else None

        def forward(mask: torch.Tensor, ws: list[str] = ws, pair: list[str] | None = pair):
            keep = mask.detach().numpy() > 0.5
            texts = [join(ws, row) for row in keep]
            proba = predictor.scores(texts, pair * len(texts) if pair is not None else None)
            return torch.from_numpy(np.asarray(proba, dtype=np.float64))

        groups = np.arange(n) * min(n, p.max_features) // n  # adjacent words share a run
        n_groups = int(groups[-1]) + 1
        attr = FeatureAblation(forward).attribute(
            torch.ones(1, n, dtype=torch.float64), baselines=0.0, target=int(target[j]),
            feature_mask=torch.from_numpy(groups)[None], perturbations_per_eval=n_groups,
        )
        out.append(attr[0].numpy().astype(np.float64))
        ctx.step("attribution (occlusion)", j + 1, len(words))
    return out, {}


def integrated_gradients(
    predictor: Predictor, texts: list[str], pairs: list[str] | None, target: np.ndarray,
    p: AttributionParams, ctx: AnalysisContext,
) -> tuple[list[np.ndarray], dict[str, Any]]:
    """Integrated gradients on the word-embedding layer of a trained task model; subword
    scores are summed into the whitespace words their characters belong to."""
    import torch
    from captum.attr import LayerIntegratedGradients

    model, tok = predictor.model, predictor.tokenizer  # type: ignore[attr-defined]
    base_id = tok.pad_token_id if p.baseline == "pad" else tok.mask_token_id
    if base_id is None:
        raise ConfigError(
            f"the tokenizer has no [{p.baseline.upper()}] token", where="analysis attribution",
            fix="set baseline: pad or mask to one the tokenizer has",
        )

    def forward(ids: torch.Tensor, mask: torch.Tensor, types: torch.Tensor | None):
        batch = {"input_ids": ids, "attention_mask": mask}
        if types is not None:
            batch["token_type_ids"] = types
        return torch.softmax(model(batch), dim=-1)

    was_training = model.training
    model.eval()
    lig = LayerIntegratedGradients(forward, model.encoder.get_input_embeddings())
    out, deltas = [], []
    try:
        for j, text in enumerate(texts):
            enc = tok(text, pairs[j] if pairs is not None else None, truncation=True,
                      max_length=predictor.max_length, return_offsets_mapping=True,
                      return_special_tokens_mask=True, return_tensors="pt")
            ids, mask = enc["input_ids"], enc["attention_mask"]
            types = enc.get("token_type_ids")
            special = enc["special_tokens_mask"].bool()
            base = torch.where(special, ids, torch.full_like(ids, base_id))
            attr, delta = lig.attribute(
                ids, baselines=base, additional_forward_args=(mask, types),
                target=int(target[j]), n_steps=p.n_steps,
                internal_batch_size=p.internal_batch_size, return_convergence_delta=True,
            )
            token_scores = attr.sum(-1)[0].detach().double().numpy()
            out.append(to_words(text, token_scores, enc, special[0].numpy()))
            deltas.append(float(delta.abs().max()))
            ctx.step("attribution (integrated gradients)", j + 1, len(texts))
    finally:
        model.train(was_training)
    return out, {"convergence_delta": float(np.mean(deltas)) if deltas else None,
                 "n_steps": p.n_steps, "baseline": p.baseline}


def to_words(text: str, token_scores: np.ndarray, enc: Any, special: np.ndarray) -> np.ndarray:
    """Sum subword scores into the whitespace words of ``text`` (first sequence only)."""
    spans = words_of(text)
    starts = np.array([m.start() for m in spans])
    seq = enc.sequence_ids(0)
    scores = np.zeros(len(spans))
    for t, (s, e) in enumerate(enc["offset_mapping"][0].tolist()):
        if special[t] or seq[t] != 0 or e <= s:
            continue
        scores[int(np.searchsorted(starts, s, side="right")) - 1] += token_scores[t]
    return scores


def faithfulness(
    predictor: Predictor, words: list[list[str]], pairs: list[str] | None,
    scores: list[np.ndarray], full: np.ndarray, target: np.ndarray,
    fractions: list[float], rng: np.random.Generator,
) -> dict[str, Any]:
    """ERASER comprehensiveness and sufficiency of the attributions and of random words,
    per fraction and averaged over fractions (one predictor call for all variants)."""
    variants: list[str] = []
    variant_pairs: list[str] = []
    for j, ws in enumerate(words):
        n = len(ws)
        order = np.argsort(-scores[j], kind="stable")
        for f in fractions:
            k = top_k(n, f)
            for chosen in (order[:k], rng.permutation(n)[:k]):
                top = np.zeros(n, bool)
                top[chosen] = True
                variants += [join(ws, ~top), join(ws, top)]
                variant_pairs += [pairs[j]] * 2 if pairs is not None else []
    proba = predictor.scores(variants, variant_pairs if pairs is not None else None)
    # drops (n_items, n_fractions, [true, random], [comprehensiveness, sufficiency])
    p_var = proba[np.arange(len(variants)), np.repeat(target, len(fractions) * 4)]
    p_full = full[np.arange(len(words)), target]
    drops = p_full[:, None, None, None] - p_var.reshape(len(words), len(fractions), 2, 2)
    per_item = drops.mean(1)  # AOPC-style mean over fractions
    margin = ((per_item[:, 0, 0] - per_item[:, 1, 0]) + (per_item[:, 1, 1] - per_item[:, 0, 1])) / 2
    lo, hi = bootstrap_mean_ci(margin, rng)
    mean = per_item.mean(0)
    return {
        "comprehensiveness": mean[0, 0], "sufficiency": mean[0, 1],
        "random_comprehensiveness": mean[1, 0], "random_sufficiency": mean[1, 1],
        "comprehensiveness_margin": mean[0, 0] - mean[1, 0],
        "sufficiency_margin": mean[1, 1] - mean[0, 1],
        "faithfulness_margin": float(margin.mean()), "faithfulness_margin_ci": [lo, hi],
        "per_fraction": [
            {"fraction": f, "comprehensiveness": drops[:, i, 0, 0].mean(),
             "sufficiency": drops[:, i, 0, 1].mean(),
             "random_comprehensiveness": drops[:, i, 1, 0].mean(),
             "random_sufficiency": drops[:, i, 1, 1].mean()}
            for i, f in enumerate(fractions)
        ],
    }


def highlighted(tokens: list[Any], scores: list[Any]) -> list[dict[str, Any]]:
    """Tokens with a display weight in [0, 1] (|score| over the example's largest |score|)
    and the sign of their contribution."""
    vals = np.array([float(s) if isinstance(s, int | float) else 0.0 for s in scores])
    top = float(np.abs(vals).max()) if len(vals) else 0.0
    return [{"text": str(t), "score": float(v),
             "weight": round(abs(float(v)) / top, 3) if top > 0 else 0.0,
             "sign": "pos" if v > 0 else "neg" if v < 0 else "zero"}
            for t, v in zip(tokens, vals, strict=False)]
