"""The default backend: offline grounding (rules + MiniLM) and pyperplan search. No server, no GPU."""

from __future__ import annotations

from planner.goal import Facts, Goal
from planner.grounding import Grounder, default_grounder
from planner.symbolic import SymbolicDomain, default_domain

from .base import ProposedPlan


class EmbeddedBackend:
    name = "embedded"

    def __init__(self, grounder: Grounder | None = None, domain: SymbolicDomain | None = None) -> None:
        self.grounder = grounder or default_grounder()
        self.domain = domain or default_domain()

    def ground(self, command: str) -> Goal:
        return self.grounder.ground(command)

    def propose(self, goal: Goal, facts: Facts) -> ProposedPlan:
        plan = self.domain.solve(goal, facts)
        return ProposedPlan(subgoals=plan.subgoals, binding=plan.binding, actions=plan.actions)
