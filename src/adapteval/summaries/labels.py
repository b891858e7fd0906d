"""The labels a result set shows a stored cell under (the plan's, or the row's own)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Labels:
    model: str
    task: str
    strategy: str
    seed: int
