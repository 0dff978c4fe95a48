"""The backend interface, and the validator every proposed plan passes before anything moves.

A backend grounds a command into a `Goal` and proposes subgoals for it from the world's
facts. The embedded backend does both with rules, embeddings and pyperplan; a transformers
or vLLM backend (later issue) will ask a language model instead. Whatever proposes the plan,
`validate_plan` replays it in the symbolic domain: each step's preconditions must hold when
it runs and the goal must hold at the end, or the plan is refused with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from humanoid.contracts import Subgoal
from planner.errors import PlanValidationError
from planner.goal import Fact, Facts, Goal, category_text
from planner.symbolic import SymbolicDomain, default_domain


@dataclass
class ProposedPlan:
    """Subgoals for a goal, with the variable binding the backend chose (e.g. which mug)."""

    subgoals: list[Subgoal]
    binding: dict[str, str] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)  # domain actions behind the subgoals, if known
    notes: list[str] = field(default_factory=list)  # how it was made: repair rounds, fallbacks


@runtime_checkable
class PlannerBackend(Protocol):
    """What the planner graph needs from a backend."""

    name: str

    def ground(self, command: str) -> Goal:
        """The goal a command asks for; raises `GroundingError` with what was not understood."""
        ...

    def propose(self, goal: Goal, facts: Facts) -> ProposedPlan:
        """Subgoals reaching `goal` from `facts`; raises `PlanningError` when there are none."""
        ...


@dataclass
class ValidatedPlan:
    subgoals: list[Subgoal]
    goal_facts: tuple[Fact, ...]
    binding: dict[str, str]
    predicted: list[Facts]  # the domain's state before each step, and after the last


def validate_plan(
    proposed: ProposedPlan, goal: Goal, facts: Facts, domain: SymbolicDomain | None = None
) -> ValidatedPlan:
    """Check `proposed` against the domain from `facts`; raise `PlanValidationError` naming the bad step.

    Indices are renumbered so a plan's subgoals always count 0, 1, 2...
    """
    domain = domain or default_domain()
    missing = set(goal.variables) - set(proposed.binding)
    if missing:
        raise PlanValidationError(f"the plan does not say which objects it uses for {sorted(missing)}")
    goal_facts = goal.bind(proposed.binding)
    for var, obj in proposed.binding.items():
        if var not in goal.variables:
            continue  # a binding for a variable the goal does not have changes nothing
        if not goal.admits(var, obj, facts):
            raise PlanValidationError(
                f"{obj} is not a {category_text(goal.variables[var])} in the observed world"
            )
    subgoals = _renumber(proposed.subgoals)
    predicted = domain.validate(subgoals, facts, goal_facts)
    return ValidatedPlan(subgoals, goal_facts, dict(proposed.binding), predicted)


def _renumber(subgoals: Sequence[Subgoal]) -> list[Subgoal]:
    return [
        Subgoal(skill=s.skill, args=dict(s.args), success=s.success, time_budget_s=s.time_budget_s, index=i)
        for i, s in enumerate(subgoals)
    ]
