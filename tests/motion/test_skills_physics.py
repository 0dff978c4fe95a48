"""pick, place and press run physically in the simulator: contacts and friction, no welding.

SimWorld + ControlLoop with a balance stand-in on the legs (see motion_rig.py). Each test
takes a few seconds of wall time (10-40 s of simulated time).
"""

from __future__ import annotations

import numpy as np
import pytest

from humanoid.contracts import FailureReason, Subgoal

pytestmark = pytest.mark.slow


def inside(pos, region) -> bool:
    return bool(np.all(np.abs(np.asarray(pos) - region["center"]) <= np.asarray(region["half_size"]) + 1e-6))


def test_pick_red_mug_and_serve_it_to_the_user(rig):
    world, sim, _, ex, events = rig
    z0 = sim.data.body("mug_red").xpos[2]
    res = ex.run(Subgoal("pick", {"obj": "mug_red"}))
    assert res.succeeded, res.message
    assert res.observations["hand"] == "right"  # the mug stands right of the robot's midline
    obs = ex.observe().by_id()
    assert obs["mug_red"].attrs.get("in_hand") == "right"  # squeezed by both fingers
    assert sim.data.body("mug_red").xpos[2] > z0 + 0.035  # and lifted by friction

    res = ex.run(Subgoal("place", {"obj": "mug_red", "target": "user"}))
    assert res.succeeded, res.message
    obs = ex.observe().by_id()
    assert "in_hand" not in obs["mug_red"].attrs
    assert inside(obs["mug_red"].pos, obs["user"].attrs["region"])
    upright = sim.data.body("mug_red").xmat.reshape(3, 3)[2, 2]
    assert upright > 0.95

    plans = [e for e in events if e["kind"] == "motion_plan"]
    assert {p["skill"] for p in plans} == {"pick", "place"}
    assert plans[0]["joint_names"] == list(world.robot.joint_groups["right_arm"])
    assert plans[0]["status"] in ("exact_solution", "straight_line") and plans[0]["waypoints"]


def test_right_hand_cannot_reach_the_coffee_slot(rig):
    *_, ex, _ = rig
    assert ex.run(Subgoal("pick", {"obj": "mug_red"})).succeeded
    res = ex.run(Subgoal("place", {"obj": "mug_red", "target": "coffee_machine"}))
    assert res.reason == FailureReason.UNREACHABLE
    assert res.observations["hand"] == "right" and res.observations["other_hand"] == "left"


def test_mug_into_the_coffee_machine_and_press_brews_coffee(rig, place_object):
    _, sim, _, ex, _ = rig
    place_object(sim, "mug_red", (0.38, 0.08))  # left of the midline: the left hand takes it
    for sg in (
        Subgoal("pick", {"obj": "mug_red"}),
        Subgoal("place", {"obj": "mug_red", "target": "coffee_machine"}),
        Subgoal("press", {"target": "coffee_machine"}),
    ):
        res = ex.run(sg)
        assert res.succeeded, f"{sg.describe()}: {res.reason} {res.message} {res.observations}"
    assert res.observations["travel_m"] >= 0.008
    events = [e["event"] for e in sim.appliances.events]
    assert events.count("brewing") == 1  # pressed once, not twice
    assert ex.observe().by_id()["mug_red"].attrs["contains"] == "coffee"


def test_coffee_from_the_default_scene_with_a_hand_over(rig):
    """The mug stands right, the slot is left: the right hand picks, hands over, the left places."""
    _, sim, _, ex, _ = rig
    steps = (
        Subgoal("pick", {"obj": "mug_red"}),
        Subgoal("hand_over", {"obj": "mug_red"}),
        Subgoal("place", {"obj": "mug_red", "target": "coffee_machine"}),
        Subgoal("press", {"target": "coffee_machine"}),
    )
    hands = []
    for sg in steps:
        res = ex.run(sg)
        assert res.succeeded, f"{sg.describe()}: {res.reason} {res.message} {res.observations}"
        hands.append(res.observations.get("hand") or res.observations.get("to"))
    assert hands == ["right", "left", "left", "left"]
    assert ex.observe().by_id()["mug_red"].attrs["contains"] == "coffee"
