"""The planner's own grounding builds exactly the task pyperplan's grounding builds, only faster."""

from __future__ import annotations

import pytest
from pyperplan import grounding
from pyperplan.pddl.parser import Parser

from humanoid.contracts import Subgoal
from planner.errors import PlanValidationError
from planner.goal import Goal
from planner.scene_snapshot import scene_observation
from planner.world_model import facts_from_observation

GOALS = [
    (("contains", "mug_red", "coffee"), ("at", "mug_red", "user")),
    (("at", "apple", "trash_can"), ("at", "coke", "user")),
    (("open", "drawer"), ("at", "sponge", "drawer")),
    (("handed", "pepsi"),),
    (("contains", "mug_blue", "water"),),
]
WORLDS = {
    "as authored": {},
    "robot away": {"start": "robot_start_away"},
    "machine off": {"attrs": {"coffee_machine": {"powered": False}}},
    "no machine": {"remove": ("coffee_machine",)},
    "holding the red mug": {"attrs": {"mug_red": {"in_hand": "right"}}},
}


def _pyperplan_task(domain, goal, facts, prune, also_keep):
    parser = Parser(None)
    parser.probInput = domain.problem_pddl(goal, facts, relevant_only=prune, also_keep=also_keep)
    task = grounding.ground(
        parser.parse_problem(domain.pddl, read_from_file=False), remove_irrelevant_operators=prune
    )
    task.operators.sort(key=lambda op: op.name)
    return task


@pytest.mark.parametrize("world", list(WORLDS))
@pytest.mark.parametrize("can_walk", [True, False])
def test_same_task_as_pyperplan(domain, world, can_walk):
    facts = facts_from_observation(scene_observation(**WORLDS[world]), can_walk=can_walk)
    for goal in GOALS:
        if any(a not in {x for f in facts for x in f[1:]} | {"coffee", "water"} for f in goal for a in f[1:]):
            continue
        for prune, also_keep in [(True, ()), (False, {"__validate__", "table", "mug_red"})]:
            ours = domain.ground(goal, facts, prune=prune, also_keep=also_keep)
            theirs = _pyperplan_task(domain, goal, facts, prune, also_keep)
            assert [op.name for op in ours.operators] == [op.name for op in theirs.operators]
            assert ours.operators == theirs.operators  # preconditions, add and delete effects too
            assert (ours.facts, ours.initial_state, ours.goals) == (
                theirs.facts,
                theirs.initial_state,
                theirs.goals,
            )


def test_coffee_plan_is_found_with_a_variable_goal(domain):
    # the whole path: bindings, grounding, search
    facts = facts_from_observation(scene_observation(start="robot_start_away"))
    goal = Goal("make_coffee", (("contains", "?mug", "coffee"), ("at", "?mug", "user")), {"?mug": "mug"})
    plan = domain.solve(goal, facts)
    assert plan.actions[0].startswith("(navigate")


def _verdict(domain, plan, facts, goal_facts):
    try:
        return domain.validate(plan, facts, goal_facts)
    except PlanValidationError as e:
        return str(e)


def test_validation_grounding_only_the_steps_says_what_the_whole_world_says(domain, monkeypatch):
    facts = facts_from_observation(scene_observation(start="robot_start_away"))
    plan = domain.solve(Goal("bin", (("at", "apple", "trash_can"),)), facts)
    swapped = [plan.subgoals[1], plan.subgoals[0], *plan.subgoals[2:]]
    retargeted = [*plan.subgoals[:-1], Subgoal("place", {"obj": "apple", "target": "sink"}, (), 30.0, 3)]
    cases = [plan.subgoals, swapped, retargeted, plan.subgoals[:-1]]
    restricted = [_verdict(domain, p, facts, plan.goal_facts) for p in cases]
    whole = type(domain).ground
    monkeypatch.setattr(type(domain), "ground", lambda self, *a, steps=None, **k: whole(self, *a, **k))
    assert [_verdict(domain, p, facts, plan.goal_facts) for p in cases] == restricted
    assert isinstance(restricted[0], list) and all(isinstance(v, str) for v in restricted[1:])
