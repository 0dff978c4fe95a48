"""navigate(place) through the executor, on the simulated kitchen.

The control loop does not walk yet (base_velocity is not wired to a walking policy), so the
closed-loop test moves the simulated robot's base kinematically by each request's commanded
velocity (`KinematicWalk`, below) while the real control loop keeps the legs and arms: that
checks the skill's loop (plan, event, commands, stop, observations), not walking."""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np

from humanoid.contracts import FailureReason, Subgoal
from motion.path_tracker import ARRIVAL_POS_M, ARRIVAL_YAW_RAD, WALK_COMMAND_LIMITS, pose_from_state
from motion.skills.navigate import derive_stand_pose, floor_plan


class KinematicWalk:
    """A MotionClient: the real control loop (standing), with the base moved by the commanded
    velocity; `blocked` moves nothing, as if the robot walked into something."""

    def __init__(self, loop, sim, world, blocked: bool = False) -> None:
        self.loop, self.sim, self.world, self.blocked = loop, sim, world, blocked
        self.commands: list[np.ndarray] = []

    def execute(self, req):
        v = np.asarray(req.base_velocity, dtype=float)
        req = dataclasses.replace(req, base_velocity=np.zeros(3))  # the standing loop refuses to walk
        if np.any(v):
            self.commands.append(v.copy())
        if np.any(v) and not self.blocked:
            d, a = self.sim.data, self.world.root_qpos_adr
            duration = (float(req.times[-1]) if len(req.times) else 0.0) + req.settle_s
            x, y, yaw = pose_from_state(d.qpos[a : a + 3], d.qpos[a + 3 : a + 7])
            c, s = np.cos(yaw), np.sin(yaw)
            x, y = x + (c * v[0] - s * v[1]) * duration, y + (s * v[0] + c * v[1]) * duration
            yaw += v[2] * duration
            d.qpos[a : a + 2] = (x, y)
            d.qpos[a + 3 : a + 7] = (np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2))
            mujoco.mj_forward(self.sim.model, d)
        return self.loop.execute(req)


def test_already_there_succeeds_without_moving(rig):
    _, sim, _, ex, events = rig
    t0 = sim.sim_time
    res = ex.run(Subgoal("navigate", {"place": "close_counter"}))  # the robot starts at its stand pose
    assert res.succeeded, res.message
    assert res.observations["moved"] is False and res.observations["arrival_error_m"] <= ARRIVAL_POS_M
    assert sim.sim_time == t0 and events == []


def test_unknown_place_is_not_found(rig):
    *_, ex, _ = rig
    res = ex.run(Subgoal("navigate", {"place": "garage"}))
    assert res.reason == FailureReason.NOT_FOUND and "garage" in res.message


def test_missing_argument_is_a_precondition_failure(rig):
    *_, ex, _ = rig
    res = ex.run(Subgoal("navigate", {}))
    assert res.reason == FailureReason.PRECONDITION_FAILED


def test_derived_stand_pose_at_the_close_counter_is_the_coffee_corner(rig):
    world, *_, ex, _ = rig
    ctx = ex.ctx
    m, d = ctx.model.model, ctx.model.data
    sid = m.site("place_close_counter").id
    floor = floor_plan(ctx)
    goal = derive_stand_pose(
        floor, d.site_xpos[sid], d.site_xmat[sid].reshape(3, 3), m.site_size[sid], np.zeros(3)
    )
    assert np.allclose(goal, [0.0, 0.0, 0.0], atol=1e-9)  # 0.25 m from the edge, facing +x


def test_walks_to_the_sink_and_stops_holding_the_arms(rig):
    world, sim, loop, ex, events = rig
    walker = KinematicWalk(loop, sim, world)
    ex.ctx.client = walker
    arms = ex.ctx.arm_cmd.copy()
    res = ex.run(Subgoal("navigate", {"place": "sink"}))
    assert res.succeeded, res.message
    obs = res.observations
    assert obs["moved"] and obs["arrival_error_m"] <= ARRIVAL_POS_M
    assert obs["arrival_yaw_error_rad"] <= ARRIVAL_YAW_RAD
    assert obs["path_length_m"] >= obs["straight_line_m"] > 1.0
    plans = [e for e in events if e.get("kind") == "base_path"]
    assert len(plans) == 1 and plans[0]["status"] in ("straight_line", "exact_solution")
    assert np.allclose(plans[0]["points"][-1][:2], obs["goal"][:2], atol=1e-3)
    lo, hi = np.array(WALK_COMMAND_LIMITS).T
    assert all(np.all(v >= lo - 1e-9) and np.all(v <= hi + 1e-9) for v in walker.commands)
    assert np.allclose(ex.ctx.arm_cmd, arms)  # the arms kept their references
    st = ex.ctx.state
    assert np.allclose(pose_from_state(st.base_pos, st.base_quat)[:2], obs["final_pose"][:2], atol=1e-3)


def test_a_controller_that_cannot_walk_is_a_clear_failure(rig):
    *_, ex, _ = rig  # the test rig's legs only stand: the control loop refuses a base velocity
    res = ex.run(Subgoal("navigate", {"place": "sink"}))
    assert res.reason == FailureReason.PRECONDITION_FAILED and "cannot walk" in res.message


def test_a_blocked_robot_replans_once_then_fails(rig):
    world, sim, loop, ex, events = rig
    walker = KinematicWalk(loop, sim, world, blocked=True)
    ex.ctx.client = walker
    res = ex.run(Subgoal("navigate", {"place": "sink"}))
    assert res.reason == FailureReason.NO_COLLISION_FREE_PATH and "blocked" in res.message
    assert res.observations["replans"] == 1
    assert len([e for e in events if e.get("kind") == "base_path"]) == 2
