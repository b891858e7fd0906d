"""The customizability ladder: per model and task, the strategies in rung order
(zeroshot, icl, kshot, probe, lora, finetune: ``Strategy.rung``) with paired gains over
the rung below and over the TF-IDF baseline (text) or the pixel baseline (images). Read by ``Results.ladder()``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from adapteval.statistics import Scored, paired_difference
from adapteval.strategies import STRATEGIES

BASELINE_REFERENCES = ("tfidf", "pixels")
"""The non-pretrained baselines gains are measured against: TF-IDF on text, pixels on
images (each runs on the tasks of its modality)."""
LADDER_COLUMNS = [
    "model", "task", "strategy", "rung", "metric", "value", "std", "ci_low", "ci_high",
    "n_seeds", "previous", "gain_over_previous", "gain_std", "gain_ci_low", "gain_ci_high",
    "baseline", "gain_over_baseline", "baseline_gain_ci_low", "baseline_gain_ci_high",
    "undefined",
]
"""The columns of ``Results.ladder()``, in order."""


def ladder_rungs(results: Any) -> dict[str, float]:
    """Strategy label -> its place on the customizability ladder (``Strategy.rung``),
    for the strategies on it: the plan's strategies, else the stored config's
    strategy when it is installed."""
    planned = ({s.name: s.rung for s in results.plan.strategies}
               if results.plan is not None else {})
    out: dict[str, float] = {}
    for r in results.rows:
        label = results.labels[r.key].strategy
        if label in out:
            continue
        name = r.strategy_config.get("name", label)
        rung = planned[label] if label in planned else (
            STRATEGIES[name].rung if name in STRATEGIES else None)
        if rung is not None:
            out[label] = float(rung)
    return out


def ladder_frame(results: Any) -> pd.DataFrame:
    """Per model and task, the strategies on the customizability ladder in rung order
    (zeroshot, icl, kshot, probe, lora, finetune: ``Strategy.rung``; a model's ladder
    starts where its strategies do, an encoder's at kshot or probe): the primary
    score with its CI over seeds, the gain over the rung below it that ran
    (``previous``) and over the TF-IDF baseline (``baseline``: its same strategy if it
    ran, else its probe), both paired by seed with their CIs. ``undefined`` maps each
    NaN field to why (e.g. the lowest rung has no gain over a previous one)."""
    groups = results._groups()
    rungs = ladder_rungs(results)
    ladders: dict[tuple[str, str], list[str]] = {}
    for m, t, s in groups:
        if m not in results.baseline_labels and s in rungs:
            ladders.setdefault((m, t), []).append(s)

    def place(col: str, value: str) -> int:
        order = results._order.get(col) or []
        return order.index(value) if value in order else len(order)

    ran = {(m, t) for m, t, _ in groups}
    bases = sorted(b for b, k in results.baselines.items() if k in BASELINE_REFERENCES)
    recs = []
    for m, t in sorted(ladders, key=lambda k: (place("model", k[0]), place("task", k[1]))):
        name = results.primary_metric(t).name
        steps = sorted(ladders[(m, t)], key=lambda s: (rungs[s], place("strategy", s)))
        for i, s in enumerate(steps):
            a = results.aggregates[(m, t, s, name)]
            mine = {seed: results.scored[k][name] for seed, k in groups[(m, t, s)].items()}
            below = [p for p in steps[:i] if rungs[p] < rungs[s]]
            previous = below[-1] if below else None
            base = next((b for b in bases if (b, t) in ran), None)
            base_s = (s if (base, t, s) in groups else "probe") if base else None
            undefined = {k: v for k, v in a.undefined.items() if k in ("value", "ci", "std")}
            rec = {"model": m, "task": t, "strategy": s, "rung": rungs[s], "metric": name,
                   "value": a.value, "std": a.std, "ci_low": a.ci_low, "ci_high": a.ci_high,
                   "n_seeds": a.n_seeds, "previous": previous,
                   "baseline": f"{base} · {base_s}" if base else None}
            gain, why = _gain(results,
                mine, groups.get((m, t, previous)) if previous else None, name,
                "the lowest rung that ran: nothing below it" if previous is None else
                f"no seed in common with {previous}")
            rec.update(gain_over_previous=gain[0], gain_std=gain[1], gain_ci_low=gain[2],
                       gain_ci_high=gain[3])
            undefined.update({f"gain_{k}" if k != "value" else "gain_over_previous": v
                              for k, v in why.items()})
            gain, why = _gain(results,
                mine, groups.get((base, t, base_s)) if base else None, name,
                f"no {' or '.join(BASELINE_REFERENCES)} baseline on {t}" if base is None else
                f"no seed in common with {base} · {base_s}")
            rec.update(gain_over_baseline=gain[0], baseline_gain_ci_low=gain[2],
                       baseline_gain_ci_high=gain[3])
            undefined.update({"gain_over_baseline" if k == "value" else "baseline_gain_ci": v
                              for k, v in why.items() if k in ("value", "ci")})
            rec["undefined"] = undefined or None
            recs.append(rec)
    frame = pd.DataFrame(recs, columns=LADDER_COLUMNS)
    return frame.astype({"rung": float, "n_seeds": int}) if recs else frame


def _gain(results: Any, mine: dict[int, Scored], ref_seeds: dict[int, str] | None,
                 name: str, missing: str
                 ) -> tuple[tuple[float, float, float, float], dict[str, str]]:
    """(gain, std, ci_low, ci_high) of ``mine`` over the cells ``ref_seeds`` (paired by
    seed) and why any of them is NaN (``missing``: when there is nothing to pair)."""
    d = None if not ref_seeds else paired_difference(
        mine, {seed: results.scored[k][name] for seed, k in ref_seeds.items()},
        results.bootstrap.confidence)
    if d is None:
        return (np.nan,) * 4, {"value": missing, "ci": missing, "std": missing}
    return (d.value, d.std, d.ci_low, d.ci_high), {
        k: v for k, v in d.undefined.items() if k in ("value", "ci", "std")}

