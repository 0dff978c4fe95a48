"""pick, place, press and hand_over run physically in the simulator: contacts and friction, no welding.

SimWorld + ControlLoop with a balance stand-in on the legs (see motion_rig.py), or the trained
stand policy when the robot's manifest has one. Each test takes a few seconds of wall time
(10-60 s of simulated time).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from motion_rig import make_rig

from humanoid.contracts import FailureReason, Subgoal
from motion.executor import SkillExecutor

pytestmark = pytest.mark.slow

# the planner's default plan for "make me a coffee" (planner/domain/kitchen.pddl)
COFFEE = (
    Subgoal("pick", {"obj": "mug_blue"}),
    Subgoal("place", {"obj": "mug_blue", "target": "coffee_machine"}),
    Subgoal("press", {"target": "coffee_machine"}),
    Subgoal("pick", {"obj": "mug_blue"}),
    Subgoal("place", {"obj": "mug_blue", "target": "user"}),
)


def inside(pos, region) -> bool:
    return bool(np.all(np.abs(np.asarray(pos) - region["center"]) <= np.asarray(region["half_size"]) + 1e-6))


def run_all(ex: SkillExecutor, steps) -> list:
    results = []
    for sg in steps:
        res = ex.run(sg)
        assert res.succeeded, f"{sg.describe()}: {res.reason} {res.message} {res.observations}"
        results.append(res)
    return results


def make_coffee(world, sim, ex) -> list:
    """The default plan, checked step by step; the mug ends full at the user's spot."""
    t_sim, t_wall = sim.sim_time, time.perf_counter()
    results = []
    for sg in COFFEE:
        results += run_all(ex, [sg])
        if sg.skill == "press":
            # the press waited for the brew: the mug is full when the skill returns
            assert ex.observe().by_id()["mug_blue"].attrs.get("contains") == "coffee"
    print(f"\ncoffee chain: {sim.sim_time - t_sim:.1f} s sim, {time.perf_counter() - t_wall:.1f} s wall")
    for r in results:
        print(
            f"  {r.subgoal.describe():45s} sim {r.sim_time_end - r.sim_time_start:5.1f} s"
            f"  wall {r.wall_time_s:5.1f} s"
        )
    assert [r.observations["hand"] for r in results] == ["left"] * 5  # the task is the left hand's
    assert all(not r.observations.get("transferred_from") for r in results)
    assert results[2].observations["travel_m"] >= 0.008
    assert [e["event"] for e in sim.appliances.events].count("brewing") == 1  # pressed once
    obs = ex.observe().by_id()
    assert "in_hand" not in obs["mug_blue"].attrs and obs["mug_blue"].attrs["contains"] == "coffee"
    assert inside(obs["mug_blue"].pos, obs["user"].attrs["region"])
    assert sim.data.body("mug_blue").xmat.reshape(3, 3)[2, 2] > 0.95  # upright: nothing spilt
    return results


def test_default_coffee_plan(rig):
    world, sim, _, ex, _ = rig
    make_coffee(world, sim, ex)


def has_stand_policy(spec) -> bool:
    return "stand" in spec.policies


def test_default_coffee_plan_on_the_trained_stand_policy(fresh_kitchen):
    if not has_stand_policy(fresh_kitchen.robot):
        pytest.skip("robots/reference_humanoid/manifest.yaml has no `policies: stand:` yet")
    sim, loop = make_rig(fresh_kitchen, policy="stand")
    ex = SkillExecutor(fresh_kitchen, loop)
    ex.observe()
    make_coffee(fresh_kitchen, sim, ex)


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
    assert res.observations["hand"] == "right"  # the serving spot is in both hands' reach
    obs = ex.observe().by_id()
    assert "in_hand" not in obs["mug_red"].attrs
    assert inside(obs["mug_red"].pos, obs["user"].attrs["region"])
    upright = sim.data.body("mug_red").xmat.reshape(3, 3)[2, 2]
    assert upright > 0.95

    plans = [e for e in events if e["kind"] == "motion_plan"]
    assert {p["skill"] for p in plans} == {"pick", "place"}
    assert plans[0]["joint_names"] == list(world.robot.joint_groups["right_arm"])
    assert plans[0]["status"] in ("exact_solution", "straight_line") and plans[0]["waypoints"]


def test_hand_over_gives_the_mug_to_the_person(rig):
    """'hand me the blue mug': the person is the `user` spot; the mug ends standing there."""
    _, sim, _, ex, _ = rig
    pick, give = run_all(
        ex, [Subgoal("pick", {"obj": "mug_blue"}), Subgoal("hand_over", {"obj": "mug_blue"})]
    )
    assert give.observations["handed_to"] == "user" and give.observations["hand"] == "left"
    obs = ex.observe().by_id()
    assert "in_hand" not in obs["mug_blue"].attrs
    assert inside(obs["mug_blue"].pos, obs["user"].attrs["region"])
    assert sim.data.body("mug_blue").xmat.reshape(3, 3)[2, 2] > 0.95


def test_red_mug_into_the_coffee_slot_changes_hands_first(rig):
    """Only the left hand reaches the slot: place passes the mug from the right hand, then places."""
    _, _, _, ex, events = rig
    pick, place = run_all(
        ex,
        [
            Subgoal("pick", {"obj": "mug_red"}),
            Subgoal("place", {"obj": "mug_red", "target": "coffee_machine"}),
        ],
    )
    assert pick.observations["hand"] == "right"
    assert place.observations["transferred_from"] == "right" and place.observations["hand"] == "left"
    obs = ex.observe().by_id()
    assert "in_hand" not in obs["mug_red"].attrs
    assert inside(obs["mug_red"].pos, obs["coffee_machine"].attrs["region"])
    motions = [e["motion"] for e in events if e["kind"] == "motion_plan" and e["skill"] == "place"]
    assert motions.index("give") < motions.index("take_pregrasp") < motions.index("preplace")


def test_no_transfer_when_the_other_hand_is_full(rig):
    *_, ex, _ = rig
    run_all(ex, [Subgoal("pick", {"obj": "mug_blue"}), Subgoal("pick", {"obj": "mug_red"})])
    res = ex.run(Subgoal("place", {"obj": "mug_red", "target": "coffee_machine"}))
    assert res.reason == FailureReason.UNREACHABLE
    assert res.observations["hand"] == "right" and res.observations["other_hand_holds"] == "mug_blue"
    assert res.observations["transferred"] is False
