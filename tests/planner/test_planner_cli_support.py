"""`humanoid plan "COMMAND" --json`: the grounded goal and the subgoals, without running anything."""

from __future__ import annotations

import json

import pytest

from planner.backends import EmbeddedBackend, PlannerBackend, ProposedPlan, validate_plan
from planner.cli_support import format_plan, plan_command
from planner.errors import PlanningError, PlanValidationError
from planner.scene_snapshot import scene_observation


def test_plan_command_is_json_ready():
    r = plan_command("make me a coffee")
    json.dumps(r)
    assert r["goal"]["intent"] == "make_coffee"
    assert [s["skill"] for s in r["subgoals"]] == ["pick", "place", "press", "pick", "place"]
    assert all({"skill", "args", "success"} <= set(s) for s in r["subgoals"])
    assert "press(target=coffee_machine)" in format_plan(r)


def test_plan_command_in_a_given_world():
    r = plan_command("make me a coffee", scene_observation(remove=("coffee_machine",)))
    assert {"skill": "press", "args": {"target": "kettle"}} in [
        {"skill": s["skill"], "args": s["args"]} for s in r["subgoals"]
    ]


def test_plan_command_reports_no_plan():
    no_coffee = scene_observation(remove=("coffee_machine",), attrs={"kettle": {"powered": False}})
    with pytest.raises(PlanningError, match="no coffee maker"):
        plan_command("make me a coffee", no_coffee)


def test_plan_command_walks_to_far_things():
    r = plan_command("throw away the apple")
    assert [(s["skill"], s["args"]) for s in r["subgoals"]] == [
        ("navigate", {"place": "table"}),
        ("pick", {"obj": "apple"}),
        ("navigate", {"place": "trash_can"}),
        ("place", {"obj": "apple", "target": "trash_can"}),
    ]


def test_embedded_backend_follows_the_protocol():
    assert isinstance(EmbeddedBackend(), PlannerBackend)


def test_a_proposed_plan_is_validated_before_anything_moves(kitchen_facts):
    from humanoid.contracts import Subgoal

    backend = EmbeddedBackend()
    goal = backend.ground("make me a coffee")
    # what a careless language model might propose: press before the mug is in the slot
    proposed = ProposedPlan(
        [Subgoal("pick", {"obj": "mug_red"}), Subgoal("press", {"target": "coffee_machine"})],
        {"?mug": "mug_red"},
    )
    with pytest.raises(PlanValidationError, match="step 1"):
        validate_plan(proposed, goal, kitchen_facts)
    with pytest.raises(PlanValidationError, match="which objects"):
        validate_plan(ProposedPlan([], {}), goal, kitchen_facts)
    with pytest.raises(PlanValidationError, match="not a mug"):
        validate_plan(ProposedPlan([], {"?mug": "coke"}), goal, kitchen_facts)
