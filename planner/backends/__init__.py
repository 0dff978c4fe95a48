"""Planner backends: who proposes the goal and the plan (embedded rules+search now; LLMs later)."""

from planner.backends.base import PlannerBackend, ProposedPlan, validate_plan
from planner.backends.embedded import EmbeddedBackend

__all__ = ["EmbeddedBackend", "PlannerBackend", "ProposedPlan", "validate_plan"]
