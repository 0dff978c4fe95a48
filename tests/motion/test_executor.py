"""The executor: dispatch by skill name, typed failures the planner can act on, plan events."""

from __future__ import annotations

import pytest

from humanoid.contracts import FailureReason, Subgoal
from motion.executor import SkillExecutor, UnknownSkillError


def test_unknown_skill_is_a_clear_error(rig):
    *_, ex, _ = rig
    with pytest.raises(UnknownSkillError, match="unknown skill 'juggle'.*'pick'"):
        ex.run(Subgoal("juggle", {"obj": "mug_red"}))


def test_missing_object_is_not_found(rig):
    *_, ex, _ = rig
    res = ex.run(Subgoal("pick", {"obj": "unicorn"}))
    assert not res.succeeded and res.reason == FailureReason.NOT_FOUND
    assert res.observations["object"] == "unicorn"


def test_furniture_is_not_pickable(rig):
    *_, ex, _ = rig
    res = ex.run(Subgoal("pick", {"obj": "close_counter"}))
    assert res.reason == FailureReason.PRECONDITION_FAILED


def test_place_without_holding_is_a_precondition_failure(rig):
    *_, ex, _ = rig
    res = ex.run(Subgoal("place", {"obj": "mug_red", "target": "coffee_machine"}))
    assert res.reason == FailureReason.PRECONDITION_FAILED and "pick it first" in res.message


def test_press_on_an_unpowered_appliance(rig):
    _, sim, _, ex, _ = rig
    sim.appliances.switch("coffee_machine", False)
    res = ex.run(Subgoal("press", {"target": "coffee_machine"}))
    assert res.reason == FailureReason.APPLIANCE_UNAVAILABLE


def test_out_of_reach_object_is_unreachable_without_moving(rig):
    _, sim, _, ex, events = rig
    t0 = sim.sim_time
    res = ex.run(Subgoal("pick", {"obj": "kettle_chips"}))  # on the table, 2 m away
    assert res.reason == FailureReason.UNREACHABLE and res.observations["hand"] in ("left", "right")
    assert sim.sim_time == t0 and events == []


def test_observe_returns_the_world(rig):
    *_, ex, _ = rig
    obs = ex.observe()
    assert "mug_red" in obs.by_id() and ex.ctx.state is not None


def test_executor_accepts_any_motion_client(fresh_kitchen):
    class Down:
        def execute(self, req):
            from bridge.messages import MotionResult

            return MotionResult(
                seq=req.seq, status="bridge_down", detail="no reply in 2 s", state=None, world=None
            )

    ex = SkillExecutor(fresh_kitchen, Down())
    res = ex.run(Subgoal("pick", {"obj": "mug_red"}))
    assert res.reason == FailureReason.BRIDGE_DOWN and "no reply" in res.message
