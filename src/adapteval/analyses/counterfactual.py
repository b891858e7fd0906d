"""Counterfactual gender swap: does the prediction change when only gender changes?

Every test text (and pair text) gets a counterfactual twin in which each gendered word
and gendered first name is swapped for its counterpart (he/she, his/her, man/woman,
John/Mary, ...; see :func:`adapteval.perturbations.edits.swap_gender`). Texts the swap does not
change say nothing about the model and are left out; on the others the analysis reports
how often the predicted class flips and how far the probability of the originally
predicted class moves. Works for any classification task; sentiment tasks have a
dedicated, template-controlled analysis in :mod:`adapteval.analyses.eec`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field

from adapteval.analyses._common import chosen_items, class_name, classification_only, sub_pairs
from adapteval.contracts import digest as dg
from adapteval.contracts.analysis import (
    ANALYSES,
    CLASSIFICATION,
    Analysis,
    AnalysisContext,
    AnalysisRow,
)
from adapteval.contracts.section import Section
from adapteval.core.plugin import TEXT, TEXT_PAIR, UNIT_LOWER, Params
from adapteval.perturbations.registry import get_perturbation, perturbation_rng

if TYPE_CHECKING:
    from adapteval.contracts.strategy import Predictor
    from adapteval.data.task import View

SWAP = "swap_gender"


class CounterfactualParams(Params):
    max_items: int | None = Field(default=None, ge=1, description="None: the whole test split")
    n_examples: int = Field(default=5, ge=0)


@ANALYSES.register
class Counterfactual(Analysis):
    name = "counterfactual"
    description = "flip rate and probability gap when gendered words and names are swapped"
    Params = CounterfactualParams
    modalities = frozenset({TEXT, TEXT_PAIR})  # both texts of a pair are swapped
    task_types = CLASSIFICATION
    offers = dict.fromkeys(("flip_rate", "mean_abs_gap", "max_gap"), UNIT_LOWER)
    params: CounterfactualParams

    def applies(self, cell: Any) -> str | None:
        return classification_only(cell, "the counterfactual analysis")

    def run(self, ctx: AnalysisContext) -> dict[str, Any]:
        assert ctx.predictor is not None
        test, seed = ctx.split.test, ctx.cell.seed
        idx = chosen_items(test, self.params.max_items, seed, self.name)
        return gender_swap_effect(ctx.predictor, ctx.cell, test, idx, seed, self.params.n_examples,
                          step=ctx.step)

    @classmethod
    def sections(cls, rows: list[AnalysisRow], results: Any = None) -> list[Section]:
        """Headline numbers and a few swapped examples."""
        data = digest(rows)
        if data is None:
            return []
        shown = dg.table(data["summary"], ["model", "strategy", "task", "flip_rate",
                                           "mean_abs_gap", "max_gap", "n_pairs", "n_seeds"])
        return [cls.section(rows, data, title="Counterfactual swaps", part="acceptability",
                            report_tables=[shown], examples=dg.examples_table(data["examples"]))]


def digest(rows: dg.Rows) -> dict[str, Any] | None:
    """The report's part: headline numbers and a few swapped examples."""
    summary = dg.averaged(rows, ("flip_rate", "mean_abs_gap", "max_gap", "n_pairs"))
    return {"summary": summary, "examples": dg.examples(rows)} if summary else None


def gender_swap_effect(
    predictor: Predictor, cell: Any, test: View, idx: np.ndarray, seed: int,
    n_examples: int = 0, step: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Flip rate and probability gaps of ``predictor`` on the items ``idx`` of ``test``
    whose text changes when gendered words and names are swapped."""
    texts, pairs, rows = [test.items[i] for i in idx], sub_pairs(test, idx), test.rows[idx]
    swapped = swap_all(texts, rows, seed)
    swapped_pairs = swap_all(pairs, rows, seed) if pairs is not None else None
    changed = [
        i for i in range(len(texts))
        if swapped[i] != texts[i] or (pairs and swapped_pairs and swapped_pairs[i] != pairs[i])
    ]
    base: dict[str, Any] = {"n_items": len(texts), "n_pairs": len(changed),
                            "changed_fraction": len(changed) / max(len(texts), 1)}
    if not changed:
        return {**base, "flip_rate": None, "mean_abs_gap": None, "max_gap": None,
                "examples": [], "note": "no test text has a gendered word or name to swap"}
    if step:
        step("counterfactual", 0, 1)
    before = predictor.scores([texts[i] for i in changed],
                              [pairs[i] for i in changed] if pairs else None)
    after = predictor.scores([swapped[i] for i in changed],
                             [swapped_pairs[i] for i in changed] if swapped_pairs else None)
    if step:
        step("counterfactual", 1, 1)
    pred, new = before.argmax(1), after.argmax(1)
    rows_ = np.arange(len(changed))
    gap = after[rows_, pred] - before[rows_, pred]
    order = sorted(rows_.tolist(), key=lambda j: (-abs(gap[j]), j))
    examples = [
        {"original": texts[changed[j]], "swapped": swapped[changed[j]],
         "before": class_name(cell, pred[j]), "after": class_name(cell, new[j]),
         "p_before": float(before[j, pred[j]]), "p_after": float(after[j, pred[j]])}
        for j in order[:n_examples]
    ]
    return {
        **base,
        "flip_rate": float(np.mean(pred != new)),
        "mean_abs_gap": float(np.mean(np.abs(gap))),
        "max_gap": float(np.max(np.abs(gap))),
        "mean_gap": float(np.mean(gap)),
        "examples": examples,
    }


def swap_all(texts: list[str], rows: np.ndarray, seed: int) -> list[str]:
    """Every gendered word and name of each text swapped (rate 1: nothing is drawn at
    random, the generator only satisfies the perturbation interface)."""
    swap = get_perturbation(SWAP)
    return [swap(t, perturbation_rng(seed, int(r), SWAP), rate=1.0)
            for t, r in zip(texts, rows, strict=True)]
