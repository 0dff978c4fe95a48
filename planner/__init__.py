"""High-level planner: language -> goal -> subgoals; executes them through a SkillRunner and re-plans.

Autonomy lives here only (DESIGN.md). Entry points: `run_planner` (the LangGraph loop) and
`plan_command` (plan without executing, for `humanoid plan`).
"""

from planner.errors import GroundingError, PlannerError, PlanningError, PlanValidationError
from planner.goal import Fact, Facts, Goal

__all__ = [
    "Fact",
    "Facts",
    "Goal",
    "GroundingError",
    "PlanValidationError",
    "PlannerError",
    "PlanningError",
]
