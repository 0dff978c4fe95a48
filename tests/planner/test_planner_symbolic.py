"""Symbolic planning with pyperplan: the coffee plan, the kettle route, validation."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

import pytest

from humanoid.contracts import Subgoal
from planner.errors import PlanningError, PlanValidationError
from planner.goal import Goal
from planner.scene_snapshot import scene_observation
from planner.world_model import facts_from_observation

COFFEE = Goal("make_coffee", (("contains", "?mug", "coffee"), ("at", "?mug", "user")), {"?mug": "mug"})


def _steps(plan):
    return [(s.skill, s.args) for s in plan.subgoals]


def test_coffee_with_the_machine(domain, kitchen_facts):
    plan = domain.solve(COFFEE, kitchen_facts)
    mug = plan.binding["?mug"]
    assert _steps(plan) == [
        ("pick", {"obj": mug}),
        ("place", {"obj": mug, "target": "coffee_machine"}),
        ("press", {"target": "coffee_machine"}),
        ("pick", {"obj": mug}),
        ("place", {"obj": mug, "target": "user"}),
    ]
    assert plan.subgoals[2].success == (("contains", mug, "coffee"),)
    assert plan.subgoals[0].success == (("holding", mug),)
    assert [s.index for s in plan.subgoals] == list(range(5))


def _kettle_route(plan):
    skills = [(s.skill, s.args.get("target") or s.args.get("obj")) for s in plan.subgoals]
    mug = plan.binding["?mug"]
    assert ("press", "kettle") in skills
    assert ("pour", mug) in skills and ("pick", "instant_coffee") in skills
    assert not any("coffee_machine" in s.args.values() for s in plan.subgoals)
    assert ("place", {"obj": mug, "target": "user"}) in _steps(plan)
    # the instant coffee goes in before the hot water
    pours = [s.args["obj"] for s in plan.subgoals if s.skill == "pour"]
    assert pours == ["instant_coffee", "kettle"]


def test_kettle_route_when_the_machine_is_missing(domain):
    facts = facts_from_observation(scene_observation(remove=("coffee_machine",)))
    _kettle_route(domain.solve(COFFEE, facts))


def test_kettle_route_when_the_machine_is_off(domain):
    facts = facts_from_observation(scene_observation(attrs={"coffee_machine": {"powered": False}}))
    _kettle_route(domain.solve(COFFEE, facts))


def test_no_route_at_all_says_why(domain):
    facts = facts_from_observation(
        scene_observation(remove=("coffee_machine",), attrs={"kettle": {"powered": False}})
    )
    with pytest.raises(PlanningError, match="there is no coffee maker in the scene; kettle is not powered"):
        domain.solve(COFFEE, facts)


def test_out_of_reach_says_walking_is_not_supported(domain, kitchen_obs):
    facts = facts_from_observation(kitchen_obs, can_walk=False)  # a motion layer without navigate
    with pytest.raises(PlanningError, match="coke is at far_counter: far_counter is out of reach.*walking is not supported"):
        domain.solve(Goal("bring", (("at", "coke", "user"),)), facts)


def test_a_mug_already_full_of_coffee_is_just_served(domain, kitchen_obs):
    obs = copy.deepcopy(kitchen_obs)
    next(o for o in obs.objects if o.id == "mug_red").attrs["contains"] = "coffee"
    plan = domain.solve(COFFEE, facts_from_observation(obs))
    assert _steps(plan) == [("pick", {"obj": "mug_red"}), ("place", {"obj": "mug_red", "target": "user"})]


def test_a_goal_that_holds_needs_no_steps(domain, kitchen_facts):
    assert domain.solve(Goal("put", (("at", "mug_red", "close_counter"),)), kitchen_facts).subgoals == []


def test_hand_over_only_when_asked(domain, kitchen_facts):
    plan = domain.solve(Goal("hand_over", (("handed", "mug_red"),)), kitchen_facts)
    assert _steps(plan) == [("pick", {"obj": "mug_red"}), ("hand_over", {"obj": "mug_red"})]


def test_validator_accepts_the_solver_plan(domain, kitchen_facts):
    plan = domain.solve(COFFEE, kitchen_facts)
    states = domain.validate(plan.subgoals, kitchen_facts, COFFEE.bind(plan.binding))
    assert len(states) == len(plan.subgoals) + 1
    assert COFFEE.holds(states[-1])


def test_validator_names_the_step_that_cannot_run(domain, kitchen_facts):
    bad = [
        Subgoal("pick", {"obj": "mug_red"}, index=0),
        Subgoal("press", {"target": "coffee_machine"}, index=1),  # no mug in the slot
    ]
    with pytest.raises(PlanValidationError, match="step 1 'press.*cannot run: needs") as e:
        domain.validate(bad, kitchen_facts)
    assert e.value.step == 1


def test_validator_rejects_unknown_skills_and_arguments(domain, kitchen_facts):
    with pytest.raises(PlanValidationError, match="unknown skill 'teleport'"):
        domain.validate([Subgoal("teleport", {"obj": "mug_red"})], kitchen_facts)
    with pytest.raises(PlanValidationError, match="takes arguments"):
        domain.validate([Subgoal("pick", {"thing": "mug_red"})], kitchen_facts)
    with pytest.raises(PlanValidationError, match="cannot run"):
        domain.validate([Subgoal("pick", {"obj": "coke"})], kitchen_facts)  # out of reach


def test_validator_checks_the_goal(domain, kitchen_facts):
    steps = [
        Subgoal("pick", {"obj": "mug_red"}, index=0),
        Subgoal("place", {"obj": "mug_red", "target": "close_counter"}, index=1),
    ]
    with pytest.raises(PlanValidationError, match="does not reach the goal"):
        domain.validate(steps, kitchen_facts, [("at", "mug_red", "user")])


def test_plans_do_not_depend_on_hash_seeds():
    code = (
        "import json;from planner.cli_support import plan_command;from planner.scene_snapshot import scene_observation;"
        "r=plan_command('make me a coffee', scene_observation(remove=('coffee_machine',)));"
        "print(json.dumps(r['subgoals']))"
    )
    outs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed, HF_HUB_OFFLINE="1")
        res = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, timeout=120
        )
        outs.append(json.loads(res.stdout.strip().splitlines()[-1]))
    assert outs[0] == outs[1]


def test_any_of_a_category_out_of_reach_lists_where_they_are(domain, kitchen_obs):
    goal = Goal("bring", (("at", "?object", "user"),), {"?object": "soda"})
    facts = facts_from_observation(kitchen_obs, can_walk=False)
    with pytest.raises(PlanningError, match=r"every soda is out of reach.*coke \(far_counter\)"):
        domain.solve(goal, facts)
