"""The plan: a validated suite resolved into models, tasks and keyed cells, every input
problem found before any work (``build_plan``), and its acceptance rules resolved."""

from adapteval.plan.build import build_plan
from adapteval.plan.cells import Cell, Job, Plan

__all__ = ["Cell", "Job", "Plan", "build_plan"]
