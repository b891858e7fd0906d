"""The most confident mistakes: per task, model and strategy, the test items the model
got wrong with the highest probability on its wrong label (regression: the largest
errors), pooled over seeds. The written reports show it in their overview, after the
scores; the terminal does not (``adapteval predictions`` gives every item)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from adapteval.contracts.images import image_cell
from adapteval.contracts.report_section import SECTIONS, ReportSection
from adapteval.contracts.section import Cell, Section, SectionTable, columns
from adapteval.exports import predictions
from adapteval.results import Results

TOP = 3
"""Mistakes shown per task, model and strategy."""
TEXT_CHARS = 160


def short(text: object) -> str:
    s = " ".join(str(text).split())
    return s if len(s) <= TEXT_CHARS else s[: TEXT_CHARS - 1] + "…"


def worst(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Each (task, model, strategy)'s ``TOP`` items with the highest ``by``, one row per
    item (its highest value over seeds) with the number of seeds it was wrong in."""
    group = ["task", "model", "strategy", "row"]
    seeds = frame.groupby(group)["seed"].nunique().rename("seeds_wrong")
    best = frame.sort_values(by, ascending=False, kind="stable").drop_duplicates(group)
    best = best.join(seeds, on=group)
    top = best.groupby(["task", "model", "strategy"], sort=False).head(TOP)
    cell = ["task", "model", "strategy"]
    first = {k: i for i, k in enumerate(dict.fromkeys(map(tuple, frame[cell].to_numpy())))}
    place = [first[tuple(k)] for k in top[cell].to_numpy()]
    return top.assign(_place=place).sort_values(["_place", by], ascending=[True, False],
                                                kind="stable")


def item(r: pd.Series) -> tuple[Cell, Cell]:
    ident = Cell(str(r["id"])) if "id" in r and pd.notna(r["id"]) else Cell(f"row {r['row']}")
    image = r.get("image")
    if isinstance(image, np.ndarray):  # an image task: a small thumbnail of the item
        return ident, image_cell(image, f"{ident.value}, labelled {r['gold']}, predicted "
                                        f"{r['pred']}")
    text = r.get("text")
    if text is None or (isinstance(text, float) and text != text):
        return ident, Cell.na("the store does not hold the texts", text="—")
    pair = r.get("text_pair")
    body = short(text) + (f" ‖ {short(pair)}" if isinstance(pair, str) else "")
    return ident, Cell(body)


def mistakes_section(results: Results) -> Section | None:
    frame = predictions(results)
    frame = frame[~frame["model"].isin(results.baseline_labels)]
    if frame.empty:
        return None
    seeds = frame.groupby(["task", "model", "strategy"])["seed"].nunique().to_dict()
    tables, data = [], []
    cls = (frame[frame["correct"].eq(False) & frame["confidence"].notna()]
           if "confidence" in frame else frame.iloc[0:0])
    if not cls.empty:
        t = SectionTable(columns("task", "model", "strategy", "id", _input(cls), "gold",
                                 "predicted", "confidence", "wrong in",
                                 right=("confidence", "wrong in"), wrap=("text",)),
                         key="mistakes")
        for _, r in worst(cls, "confidence").iterrows():
            n = seeds[(r["task"], r["model"], r["strategy"])]
            t.add(r["task"], r["model"], r["strategy"], *item(r), str(r["gold"]), str(r["pred"]),
                  Cell.of(float(r["confidence"]), ".4f"),
                  Cell(f"{int(r['seeds_wrong'])} of {n} seed{'s' if n > 1 else ''}"),
                  new_group=bool(t.rows) and t.rows[-1].cells[0].value != r["task"])
            data.append(_record(r))
        tables.append(t)
    reg = frame[frame["error"].notna()].assign(abs_error=lambda f: f["error"].abs()) \
        if "error" in frame else frame.iloc[0:0]
    if not reg.empty:
        t = SectionTable(columns("task", "model", "strategy", "id", _input(reg), "gold",
                                 "predicted", "error",
                                 left=("task", "model", "strategy", "id", "text", "input"),
                                 wrap=("text",)),
                         caption="Largest errors (regression)", key="mistakes-regression")
        for _, r in worst(reg, "abs_error").iterrows():
            t.add(r["task"], r["model"], r["strategy"], *item(r), Cell.of(float(r["gold"]), ".4g"),
                  Cell.of(float(r["pred"]), ".4g"), Cell.of(float(r["error"]), "+.4g"),
                  new_group=bool(t.rows) and t.rows[-1].cells[0].value != r["task"])
            data.append(_record(r))
        tables.append(t)
    if not tables:
        return None
    notes = [f"Up to {TOP} items per task, model and strategy, pooled over seeds (each item "
             "once, at its highest confidence); k-shot cells average their experiments' "
             "probabilities. Baselines are left out. Every item: adapteval predictions."]
    if "image" in frame:
        notes.append("Images are shown as small thumbnails (at most 96 pixels a side).")
    notes += [f"{task}: no texts shown ({why.split(': ', 1)[-1]})."
              for task, why in frame.attrs.get("missing", {}).items()]
    return Section("mistakes", title="Most confident mistakes", tables=[], report_tables=tables,
                   notes=notes, part="overview", data=data)


def _input(frame: pd.DataFrame) -> str:
    """The input column's name: ``text``, or ``input`` when some items are images."""
    return "input" if "image" in frame and frame["image"].notna().any() else "text"


def _record(r: pd.Series) -> dict:
    keep = ("task", "model", "strategy", "seed", "row", "id", "text", "text_pair", "gold",
            "pred", "confidence", "error", "seeds_wrong")
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()
            if k in keep and not (isinstance(v, float) and v != v)}


class Mistakes(ReportSection):
    name, order = "mistakes", 80
    description = "the most confident mistakes per task, model and strategy"

    def build(self, results, data, *, strict=False):
        return mistakes_section(results)


SECTIONS.register(Mistakes())
