"""Walking in the plan: the robot is at a station (from its observed pose), every place is
worked from its station, and `navigate` walks between stations (issue 7).

These use the room as authored (`walking_ready=True`): the user is served at their own station.
"""

from __future__ import annotations

import copy
import math

import pytest
from planner_harness import SymbolicRunner

from humanoid.contracts import Subgoal
from planner.errors import PlanValidationError
from planner.goal import Goal
from planner.graph import run_planner
from planner.scene_snapshot import scene_observation
from planner.world_model import NOWHERE, facts_from_observation, station_at, stations
from scenarios.world import stand_poses

COFFEE = Goal("make_coffee", (("contains", "?mug", "coffee"), ("at", "?mug", "user")), {"?mug": "mug"})


@pytest.fixture(scope="module")
def room_stands():
    return stand_poses("kitchen", walking_ready=True)


def _facts(stands, start=None, **kw):
    return facts_from_observation(scene_observation(walking_ready=True, start=start, **kw), stands=stands)


def _steps(plan):
    return [s.describe() for s in plan.subgoals]


def test_every_place_has_a_stand_pose_and_stations_are_apart(room_stands):
    obs = scene_observation(walking_ready=True)
    places = {o.id for o in obs.objects if "region" in o.attrs}
    assert places <= set(room_stands)
    station_of = stations(room_stands, places)
    assert station_of["coffee_machine"] == "close_counter" and station_of["user"] == "user"
    poses = [room_stands[s] for s in set(station_of.values())]
    for i, a in enumerate(poses):
        for b in poses[i + 1 :]:
            assert math.hypot(a[0] - b[0], a[1] - b[1]) >= 1.9, (a, b)


def test_coffee_from_the_corner_walks_to_the_user(domain, room_stands):
    plan = domain.solve(COFFEE, _facts(room_stands))
    mug = plan.binding["?mug"]
    assert _steps(plan) == [
        f"pick(obj={mug})",
        f"place(obj={mug}, target=coffee_machine)",
        "press(target=coffee_machine)",
        f"pick(obj={mug})",
        "navigate(place=user)",
        f"place(obj={mug}, target=user)",
    ]
    assert plan.subgoals[4].success == (("robot-at", "user"),)


def test_from_away_the_robot_first_walks_to_the_coffee_corner(domain, room_stands):
    facts = _facts(room_stands, start="robot_start_away")
    assert ("robot-at", NOWHERE) in facts
    assert _steps(domain.solve(COFFEE, facts))[0] == "navigate(place=close_counter)"


def test_throw_away_the_apple(domain, room_stands):
    plan = domain.solve(Goal("throw", (("at", "apple", "trash_can"),)), _facts(room_stands, start="robot_start_away"))
    assert _steps(plan) == [
        "navigate(place=table)",
        "pick(obj=apple)",
        "navigate(place=trash_can)",
        "place(obj=apple, target=trash_can)",
    ]


def test_the_kettle_route_walks_to_the_side_counter(domain, room_stands):
    plan = domain.solve(COFFEE, _facts(room_stands, remove=("coffee_machine",)))
    steps = _steps(plan)
    assert "navigate(place=side_counter)" in steps and "press(target=kettle)" in steps
    assert steps[-2:] == ["navigate(place=user)", f"place(obj={plan.binding['?mug']}, target=user)"]


def test_a_plan_that_forgets_to_walk_does_not_validate(domain, room_stands):
    facts = _facts(room_stands)
    with pytest.raises(PlanValidationError, match="cannot run"):
        domain.validate([Subgoal("pick", {"obj": "apple"})], facts)
    domain.validate([Subgoal("navigate", {"place": "table"}), Subgoal("pick", {"obj": "apple"}, index=1)], facts)


def test_where_the_robot_stands(room_stands):
    station_of = stations(room_stands, room_stands)
    x, y, yaw = room_stands["table"]
    assert station_at((x + 0.3, y, yaw), room_stands, station_of, 0.5, 0.5) == "table"
    assert station_at((x + 0.7, y, yaw), room_stands, station_of, 0.5, 0.5) == NOWHERE
    assert station_at((x, y, yaw + math.pi), room_stands, station_of, 0.5, 0.5) == NOWHERE  # facing away


def test_the_run_walks_and_the_world_follows(room_stands):
    obs = scene_observation(walking_ready=True, start="robot_start_away")
    runner = SymbolicRunner(copy.deepcopy(obs), stands=room_stands)
    out = run_planner("throw away the apple", runner)
    assert out.success, out.message
    assert [c.skill for c in runner.calls] == ["navigate", "pick", "navigate", "place"]
    robot = next(o for o in runner.observe().objects if o.id == "robot")
    assert robot.pos[:2] == pytest.approx(room_stands["trash_can"][:2])
