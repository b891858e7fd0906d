"""Counterfactual fairness on the Equity Evaluation Corpus (Kiritchenko and Mohammad,
*SEM 2018): does a sentiment predictor score the same sentence differently when only the
person in it changes gender or race?

Every EEC sentence is scored for the probability of the task's positive class. Sentences
are then paired within a *cell* of the corpus: the same template and the same emotion
word, and (for gender) the same race or (for race) the same gender. In each cell the
mean probability over one side's persons is compared with the other side's:

- gender: female minus male persons (names and noun phrases such as "my sister" /
  "my brother"), within each (template, emotion word, race) cell;
- race: African-American minus European-American names, within each (template, emotion
  word, gender) cell; pronouns and noun phrases carry no race and are left out.

Differences are reported as mean, mean absolute and maximum absolute gap, with a paired
Wilcoxon signed-rank test (and a paired t-test) of the differences against zero.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from adapteval.analyses._common import classification_only
from adapteval.contracts import digest as dg
from adapteval.contracts.analysis import (
    ANALYSES,
    CLASSIFICATION,
    Analysis,
    AnalysisContext,
    AnalysisRow,
)
from adapteval.contracts.section import Section
from adapteval.core.errors import ConfigError, DataError
from adapteval.core.plugin import TEXT, UNIT_LOWER, Params

COLUMNS = ("Sentence", "Template", "Person", "Gender", "Race", "Emotion word")
POSITIVE_NAMES = ("1", "positive", "pos")
# attribute -> (column, side a, side b, the column that must also match)
ATTRIBUTES = {
    "gender": ("Gender", "female", "male", "Race"),
    "race": ("Race", "African-American", "European", "Gender"),
}


class EECParams(Params):
    path: str = Field(
        default="Equity-Evaluation-Corpus.csv", min_length=1,
        description="the corpus file (its published name by default), relative to the "
        "suite's folder",
    )
    positive_label: str | None = Field(
        default=None, description="the positive class; default: a class named 1/positive/pos"
    )
    alpha: float = Field(default=0.05, gt=0.0, lt=1.0, description="significance level")
    n_examples: int = Field(default=3, ge=0, description="largest-gap cells kept per attribute")


def positive_class(classes: tuple[str, ...] | None, wanted: str | None) -> int | None | str:
    """Index of the positive class; None when there is none; a message when ambiguous."""
    names = [str(c) for c in classes or ()]
    if wanted is not None:
        return names.index(wanted) if wanted in names else None
    hits = [i for i, c in enumerate(names) if c.strip().lower() in POSITIVE_NAMES]
    if len(hits) > 1:
        return f"classes {', '.join(names)} have more than one positive-looking class"
    return hits[0] if hits else None


@cache
def read_eec(path: Path) -> pd.DataFrame:
    """The corpus, with empty cells kept as empty strings (neutral templates have no
    emotion; pronouns and noun phrases have no race)."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read the EEC file: {err}", where=str(path)) from None
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"EEC file lacks column {missing[0]!r}", where=str(path),
            fix=f"expected columns {', '.join(COLUMNS)}",
        )
    return frame


def paired_gaps(frame: pd.DataFrame, p: np.ndarray, attribute: str) -> pd.DataFrame:
    """One row per matched cell: mean probability of side a, of side b, and a - b."""
    column, a, b, also = ATTRIBUTES[attribute]
    data = frame.assign(p=p)
    data = data[data[column].isin([a, b])]
    if attribute == "race":
        data = data[data[column] != ""]
    means = data.pivot_table(
        index=["Template", "Emotion word", also], columns=column, values="p", aggfunc="mean"
    ).dropna()
    return pd.DataFrame({"a": means[a], "b": means[b], "gap": means[a] - means[b]})


def gap_test(gaps: np.ndarray, alpha: float) -> dict[str, Any]:
    """Mean, mean-abs and max gap, with paired tests of the gaps against zero."""
    from scipy.stats import ttest_1samp, wilcoxon

    if not len(gaps):
        return {"mean_gap": None, "mean_abs_gap": None, "max_gap": None, "p_value": None,
                "t_p_value": None, "significant": False, "n_pairs": 0}
    if np.allclose(gaps, 0.0, atol=1e-12):  # no difference at all: nothing to test
        p_w = p_t = 1.0
    elif np.ptp(gaps) < 1e-12:  # one and the same nonzero gap everywhere: t is infinite
        p_w, p_t = float(wilcoxon(gaps).pvalue), 0.0
    else:
        p_w = float(wilcoxon(gaps).pvalue)
        p_t = float(ttest_1samp(gaps, 0.0).pvalue)
    return {
        "mean_gap": float(np.mean(gaps)), "mean_abs_gap": float(np.mean(np.abs(gaps))),
        "max_gap": float(np.max(np.abs(gaps))), "p_value": p_w, "t_p_value": p_t,
        "significant": bool(p_w < alpha), "n_pairs": len(gaps),
    }


@ANALYSES.register
class EEC(Analysis):
    name = "eec"
    description = "gender and race gaps in positive probability on the Equity Evaluation Corpus"
    Params = EECParams
    modalities = frozenset({TEXT})  # the corpus is single sentences
    task_types = CLASSIFICATION
    offers = dict.fromkeys(("counterfactual_gap", "gender_gap", "race_gap"), UNIT_LOWER)
    params: EECParams

    @classmethod
    def scalars(cls, result: dict[str, Any]) -> dict[str, float | None]:
        """The worst mean |gap|, and each attribute's mean |gap|."""
        attrs = result.get("attributes", {})
        return {"counterfactual_gap": result.get("counterfactual_gap"),
                **{f"{a}_gap": attrs.get(a, {}).get("mean_abs_gap") for a in ATTRIBUTES}}

    def check(self, plan: Any, *, where: str) -> None:
        path = plan.suite.resolve(self.params.path)
        if not path.is_file():
            raise ConfigError(
                "EEC file not found", where=f"{where}.path", value=str(path),
                fix="set path: to Equity-Evaluation-Corpus.csv, relative to the suite's folder",
            )
        tasks = [t for t in plan.tasks if self.tasks is None or t.name in self.tasks]
        usable = []
        for task in tasks:
            if task.is_regression:
                continue
            found = positive_class(task.classes, self.params.positive_label)
            if isinstance(found, str):
                raise ConfigError(f"task {task.name!r}: {found}", where=where,
                                  fix="set positive_label: to the positive class")
            if found is None and self.tasks is not None:
                raise ConfigError(
                    f"task {task.name!r} has no positive class", where=where,
                    value=list(task.classes or ()), fix="set positive_label: or drop the task",
                )
            usable += [task.name] if found is not None else []
        if not usable:
            raise ConfigError(
                "no task of the suite has a positive class for the EEC analysis", where=where,
                fix="set positive_label:, or list the sentiment tasks under tasks:",
            )

    def applies(self, cell: Any) -> str | None:
        reason = classification_only(cell, "the EEC analysis")
        if reason:
            return reason
        found = positive_class(cell.task.classes, self.params.positive_label)
        if not isinstance(found, int):
            return f"task {cell.task.name!r} has no positive class (set positive_label)"
        return None

    def run(self, ctx: AnalysisContext) -> dict[str, Any]:
        assert ctx.predictor is not None
        path = ctx.plan.suite.resolve(self.params.path) if ctx.plan else Path(self.params.path)
        frame = read_eec(path.resolve())
        positive = positive_class(ctx.cell.task.classes, self.params.positive_label)
        assert isinstance(positive, int)
        ctx.step("eec: scoring sentences", 0, 1)
        p = ctx.predictor.scores(frame["Sentence"].tolist())[:, positive]
        ctx.step("eec: scoring sentences", 1, 1)
        attributes, examples = {}, {}
        for attribute, (_, a, b, also) in ATTRIBUTES.items():
            gaps = paired_gaps(frame, p, attribute)
            attributes[attribute] = {**gap_test(gaps["gap"].to_numpy(), self.params.alpha),
                                     "sides": [a, b]}
            top = gaps.reindex(gaps["gap"].abs().sort_values(ascending=False).index)
            examples[attribute] = [
                {"template": t, "emotion_word": w, also.lower(): o,
                 f"p_{a}": float(r["a"]), f"p_{b}": float(r["b"]), "gap": float(r["gap"])}
                for (t, w, o), r in top.head(self.params.n_examples).iterrows()
            ]
        worst = max(attributes, key=lambda k: attributes[k]["mean_abs_gap"] or 0.0)
        return {
            "counterfactual_gap": attributes[worst]["mean_abs_gap"],
            "worst_attribute": worst,
            "positive_label": str((ctx.cell.task.classes or ())[positive]),
            "mean_positive": float(np.mean(p)),
            "n_sentences": len(frame),
            "attributes": attributes,
            "examples": examples,
        }

    @classmethod
    def sections(cls, rows: list[AnalysisRow], results: Any = None) -> list[Section]:
        """The gap, and the paired test per attribute."""
        data = digest(rows)
        if data is None:
            return []
        shown = dg.table(data["attributes"], ["model", "strategy", "task", "attribute",
                                              "mean_gap", "mean_abs_gap", "max_gap", "p_value",
                                              "n_pairs"])
        return [cls.section(rows, data, title="Equity Evaluation Corpus", part="acceptability",
                            report_tables=[shown])]


def digest(rows: dg.Rows) -> dict[str, Any] | None:
    """The report's part: the gap, and the paired test per attribute."""
    summary = dg.averaged(rows, ("counterfactual_gap",))
    if not summary:
        return None
    attributes = []
    for (model, strategy, task), rs in dg.grouped(rows, ("model", "strategy", "task")).items():
        names = dict.fromkeys(a for r in rs for a in (r.result.get("attributes") or {}))
        for name in names:
            per = [r.result["attributes"][name] for r in rs if name in r.result["attributes"]]
            attributes.append({
                "model": model, "strategy": strategy, "task": task, "attribute": name,
                **{f: dg.mean(a.get(f) for a in per)
                   for f in ("mean_gap", "mean_abs_gap", "max_gap", "p_value", "n_pairs")},
                "min_p_value": min((a["p_value"] for a in per
                                    if isinstance(a.get("p_value"), int | float)), default=None),
            })
    return {"summary": summary, "attributes": attributes}
