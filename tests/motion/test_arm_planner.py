"""OMPL in the arm's joint space: around obstacles, every 50 Hz sample checked, typed failures."""

from __future__ import annotations

import numpy as np
import pytest

from bridge.sim_world import SimWorld
from humanoid.contracts import FailureReason
from motion.arm_planner import ArmPlanner
from motion.collision_model import CollisionModel
from motion.trajectory import DEFAULT_LIMITS, max_rates


@pytest.fixture
def planner(kitchen):
    sim = SimWorld(kitchen)
    model = CollisionModel(kitchen)
    model.sync(sim.state(), sim.observe())
    return ArmPlanner(model, time_limit_s=5.0)


def test_plans_around_the_mug_and_every_sample_is_free(planner, arm_pose_for):
    # the right hand goes from the right of the mug on its side to its left: straight through is blocked
    x, y, _ = planner.model.data.body("mug_red").xpos
    start = arm_pose_for("right", (x - 0.04, y - 0.11, 0.80), model=planner.model)
    goal = arm_pose_for("right", (x, y + 0.12, 0.80), model=planner.model)
    assert not planner.segment_valid("right", start, goal)
    plan = planner.plan("right", start, goal)
    assert plan.ok, plan.detail
    assert plan.status == "exact_solution" and plan.reason is None
    assert np.allclose(plan.waypoints[0], start) and np.allclose(plan.waypoints[-1], goal)
    traj = plan.trajectory
    assert np.allclose(traj.q[0], start) and np.allclose(traj.q[-1], goal)
    assert planner.first_invalid("right", traj.q) is None
    v, _ = max_rates(traj)
    assert np.all(v <= DEFAULT_LIMITS.velocity * 1.001)


def test_from_beside_the_body_to_above_the_counter(planner, arm_pose_for):
    start = planner.model.arm_q("right")  # hanging beside the body
    goal = arm_pose_for("right", (0.45, -0.30, 0.90), model=planner.model)
    plan = planner.plan("right", start, goal)
    assert plan.ok, plan.detail
    assert np.allclose(planner.model.arm_q("right"), start)  # the model's arm is put back
    assert planner.first_invalid("right", plan.trajectory.q) is None


def test_start_in_collision_is_reported_not_planned(planner, arm_pose_for):
    inside = arm_pose_for("right", (0.40, -0.25, 0.69))
    goal = arm_pose_for("right", (0.45, -0.30, 0.90), model=planner.model)
    plan = planner.plan("right", inside, goal)
    assert not plan.ok
    assert plan.status == "invalid_start" and plan.reason == FailureReason.NO_COLLISION_FREE_PATH
    assert "close_counter" in plan.detail and plan.trajectory is None


def test_goal_outside_joint_limits_is_reported(planner):
    start = planner.model.arm_q("right")
    goal = start.copy()
    goal[3] = 3.0  # elbow range ends at 0.1
    plan = planner.plan("right", start, goal)
    assert plan.status == "invalid_goal" and "outside" in plan.detail
