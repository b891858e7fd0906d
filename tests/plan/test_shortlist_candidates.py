"""The shortlist chooses among pretrained models that run on every task, ranked among
themselves; a model limited to its own tasks is shown as no candidate, not as the winner."""

from __future__ import annotations

import pandas as pd

from adapteval.api import apply_shortlist
from adapteval.execution.driver import PlanStatus
from adapteval.plan import build_plan
from adapteval.presentation.plan import plan_section
from adapteval.ranking import Ranking
from adapteval.suite.schema import Suite


def test_a_model_on_its_own_tasks_is_no_candidate_and_takes_no_position(tmp_path, tiny_bert):
    suite = Suite.model_validate({
        "name": "short", "output_dir": str(tmp_path), "seeds": [0], "shortlist": 1,
        "models": ["all-MiniLM-L6-v2", {"source": str(tiny_bert), "name": "tiny"},
                   {"source": str(tiny_bert), "name": "tiny-spam", "tasks": ["sms-spam"],
                    "pooling": "cls"}],
        "tasks": ["sentiment-yelp", "sms-spam"],
        "strategies": ["probe", {"name": "kshot", "samples_per_label": 4}],
    })
    plan = build_plan(suite)
    assert plan.shortlist_candidates() == ["all-MiniLM-L6-v2", "tiny"]
    # On spam, tiny-spam sits between tiny and MiniLM: counted, it would flip their order.
    scores = pd.DataFrame([
        {"model": m, "task": t, "estimator": "logme", "score": s, "seconds": 0.0}
        for m, t, s in [("all-MiniLM-L6-v2", "sentiment-yelp", 0.9), ("tiny", "sentiment-yelp", 0.5),
                        ("tiny", "sms-spam", 0.95), ("tiny-spam", "sms-spam", 0.93),
                        ("all-MiniLM-L6-v2", "sms-spam", 0.90)]
    ])
    ranking = Ranking(scores, "logme")
    assert ranking.aggregate()["model"].tolist()[:2] == ["tiny", "all-MiniLM-L6-v2"]  # 1.5 vs 2
    assert ranking.aggregate(models=plan.shortlist_candidates())["mean_rank"].tolist() == [1.5, 1.5]

    apply_shortlist(plan, ranking, 1)
    kshot = {c.model.label for c in plan.cells if c.strategy.name == "kshot" and c.model.pretrained}
    assert kshot == {"all-MiniLM-L6-v2", "tiny-spam"}  # first of the tie; the non-candidate

    section = plan_section(PlanStatus(plan, plan.cells, [], 0, ranking, plan.jobs()))
    shortlist = section.tables[-1]
    rows = {r.cells[0].value: r.cells for r in shortlist.rows}
    assert set(rows) == {"all-MiniLM-L6-v2", "tiny"}
    assert [rows[m][1].value for m in ("all-MiniLM-L6-v2", "tiny")] == [1, 2]
    assert rows["all-MiniLM-L6-v2"][5].value == "probe, kshot"
    assert rows["tiny"][5].value == "probe only"
    assert "top 1 of 2 candidates" in shortlist.caption
    assert any("tiny-spam is not a shortlist candidate" in n and "(sms-spam)" in n
               for n in section.notes)
