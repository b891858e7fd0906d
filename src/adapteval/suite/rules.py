"""The grammar of acceptance rules: the compact string form and its words.

A rule is ``METRIC OP NUMBER[%] [on SCOPE] [(STATISTIC)] [for STRATEGY]``, for example
``"accuracy >= 0.85 on every task (ci_low) for probe"``; :func:`parse_rule` turns it into
the mapping form a ``CriterionSpec`` validates. What the names mean (which metric, which
analysis) is resolved against the plan (``adapteval.plan.criteria``).
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from typing import Any

OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
    "==": lambda a, b: math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12),
}
STATISTICS = ("mean", "ci_low", "ci_high")
SCOPES = ("every_task", "mean", "worst_task")  # or task:<name>
RULE_FORM = ("METRIC OP NUMBER[%] [on every task | on worst task | on average | on task NAME] "
             "[(mean | ci_low | ci_high)] [for STRATEGY]")

_RULE = re.compile(
    r"^\s*(?P<metric>[A-Za-z_][\w.\-]*)\s*(?P<op>>=|<=|==|>|<)\s*"
    r"(?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(?P<pct>%)?(?P<rest>.*)$"
)
STATISTIC_WORDS = {
    "mean": "mean", "ci_low": "ci_low", "lower ci bound": "ci_low", "lower ci": "ci_low",
    "lower bound": "ci_low", "ci_high": "ci_high", "upper ci bound": "ci_high",
    "upper ci": "ci_high", "upper bound": "ci_high",
}
SCOPE_WORDS = {
    "every task": "every_task", "every_task": "every_task", "all tasks": "every_task",
    "each task": "every_task", "worst task": "worst_task", "the worst task": "worst_task",
    "worst_task": "worst_task", "average": "mean", "mean": "mean", "the mean": "mean",
    "mean over tasks": "mean", "average over tasks": "mean",
}


def parse_rule(text: str) -> dict[str, Any]:
    """The compact form ``"accuracy >= 0.85 on every task (ci_low) for probe"`` as the
    mapping form; a ValueError (shown with the rule's place in the suite) otherwise."""
    m = _RULE.match(text)
    if m is None:
        raise ValueError(f"cannot read rule {text!r}; write {RULE_FORM}")
    rule: dict[str, Any] = {"metric": m["metric"], "op": m["op"],
                            "threshold": float(m["number"]) / (100 if m["pct"] else 1)}
    rest = m["rest"].strip()
    stat = re.search(r"\(([^)]*)\)", rest)
    if stat:
        word = " ".join(stat[1].lower().split())
        if word not in STATISTIC_WORDS:
            raise ValueError(f"unknown statistic ({stat[1]}) in rule {text!r}; "
                             "use (mean), (ci_low) or (ci_high)")
        rule["statistic"] = STATISTIC_WORDS[word]
        rest = (rest[: stat.start()] + rest[stat.end():]).strip()
    strat = re.search(r"\b(?:for|with)\s+(\S+)\s*$", rest)
    if strat:
        rule["strategy"] = strat[1]
        rest = rest[: strat.start()].strip()
    if rest:
        on = re.fullmatch(r"(?:on|over|across)\s+(.+)", rest)
        if on is None:
            raise ValueError(f"cannot read {rest!r} in rule {text!r}; write {RULE_FORM}")
        words = " ".join(on[1].split())
        task = re.fullmatch(r"(?:task\s+|task:)(\S+)", words)
        if task:
            rule["scope"] = f"task:{task[1]}"
        elif words.lower() in SCOPE_WORDS:
            rule["scope"] = SCOPE_WORDS[words.lower()]
        else:
            raise ValueError(f"unknown scope {words!r} in rule {text!r}; use every task, "
                             "worst task, average or task NAME")
    return rule
