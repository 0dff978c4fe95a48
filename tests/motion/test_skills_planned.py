"""Skills planned in isolation (IK + OMPL, nothing executed): transfer, pour, open, close.

The robot state is synthetic where the scene cannot produce it without physics: an object
is put in a hand in the motion layer's model and reported `in_hand` in its observation.
"""

from __future__ import annotations

import numpy as np
import pytest

from bridge.sim_world import SimWorld
from control.loop import ControlLoop, HoldController
from humanoid.contracts import FailureReason
from motion.executor import SkillExecutor
from motion.skills.articulated import find_articulation, plan_operate
from motion.skills.base import SkillContext, SkillFailure
from motion.skills.pour import TILT_RAD, plan_pour
from motion.skills.transfer import hand_reaches, plan_transfer


def hold(ctx: SkillContext, oid: str, side: str, q_arm: np.ndarray) -> None:
    """Pretend `side` holds `oid` with its arm at `q_arm` (model, references and observation)."""
    ctx.arm_ref[ctx.cols(side)] = q_arm
    ctx.arm_cmd[ctx.cols(side)] = q_arm
    ctx.model.set_arm(side, q_arm)
    site, _ = ctx.model.site_pose(ctx.spec.end_effectors[side].grasp_site)
    site = site - [0.0, 0.0, 0.03]  # held 3 cm above its centre, as pick grasps a mug
    ctx.model.set_object_pose(oid, site, np.array([1.0, 0.0, 0.0, 0.0]))
    ctx.model.attach(oid, side)
    o = ctx.obs.by_id()[oid]
    o.pos = site.tolist()
    o.attrs["in_hand"] = side


@pytest.fixture
def ctx(kitchen):
    sim = SimWorld(kitchen)
    ex = SkillExecutor(kitchen, ControlLoop(kitchen.robot, sim, HoldController(kitchen.robot)))
    ex.observe()
    return ex.ctx


def test_transfer_plans_both_arms(ctx, arm_pose_for):
    hold(ctx, "mug_red", "right", arm_pose_for("right", (0.38, -0.22, 0.92), pitch=0.35))
    plan = plan_transfer(ctx, "mug_red")
    assert (plan.giver, plan.taker) == ("right", "left")
    assert plan.give_plan.ok and plan.take_plan.ok
    assert np.allclose(plan.give_plan.waypoints[-1], plan.q_give)
    assert np.allclose(plan.take_plan.waypoints[-1], plan.grasp.q_pre)
    assert len(plan.grasp.approach) >= 2  # a straight approach line for the taking hand


def test_pour_plans_a_move_and_a_tilt(kitchen, arm_pose_for, place_object):
    # 3 cm further out than mug_red's default spot: the full tilt at the default spot is beyond
    # the right wrist's range (pour's hand yaws are too few there; see motion/README.md)
    sim = SimWorld(kitchen)
    place_object(sim, "mug_red", (0.47, -0.25))
    ex = SkillExecutor(kitchen, ControlLoop(kitchen.robot, sim, HoldController(kitchen.robot)))
    ex.observe()
    ctx = ex.ctx
    hold(ctx, "mug_blue", "right", arm_pose_for("right", (0.38, -0.30, 0.92), pitch=0.35))
    plan = plan_pour(ctx, "mug_blue", "mug_red")
    assert plan.side == "right" and plan.move.ok
    # the last tilt step turns the held mug past the pouring angle
    ctx.model.set_arm("right", plan.tilt[-1])
    z = ctx.model.data.body("mug_blue").xmat.reshape(3, 3)[:, 2]
    assert np.arccos(np.clip(z[2], -1, 1)) > TILT_RAD - 0.1


def test_transfer_needs_an_object_in_hand(ctx):
    with pytest.raises(SkillFailure) as err:
        plan_transfer(ctx, "mug_red")
    assert err.value.reason == FailureReason.PRECONDITION_FAILED


def test_only_the_left_hand_reaches_the_coffee_slot(ctx):
    # what decides place's transfer fallback
    slot = np.array([0.42, 0.30, 0.78])
    assert hand_reaches(ctx, "left", slot) and not hand_reaches(ctx, "right", slot)
    serving = np.array([0.36, -0.03, 0.78])
    assert hand_reaches(ctx, "left", serving) and hand_reaches(ctx, "right", serving)


@pytest.fixture
def ctx_at_cupboard(kitchen):
    # standing in front of the cupboard, handle ~0.4 m ahead and to the left
    sim = SimWorld(kitchen, robot_xy_yaw=kitchen.stands["cupboard"])  # the scene's stand pose for it
    ex = SkillExecutor(kitchen, ControlLoop(kitchen.robot, sim, HoldController(kitchen.robot)))
    ex.observe()
    return ex.ctx


def test_open_cupboard_door_is_planned(ctx_at_cupboard):
    ctx = ctx_at_cupboard
    art = find_articulation(ctx, "cupboard")
    assert art.kind == "hinge" and art.open_value < 0
    plan = plan_operate(ctx, art, 0.0, -0.1)  # the first part of the swing: further needs a step
    assert plan.side == "left" and len(plan.path) > 2
    to_pregrasp = ctx.planner.plan(plan.side, ctx.arm_q(plan.side), plan.grasp.q_pre)
    assert to_pregrasp.ok, to_pregrasp.detail


def test_open_from_too_far_is_unreachable(ctx):
    art = find_articulation(ctx, "drawer")
    assert art.kind == "slide"
    with pytest.raises(SkillFailure) as err:
        plan_operate(ctx, art, 0.0, art.open_value)
    assert err.value.reason == FailureReason.UNREACHABLE


def test_a_line_out_of_reach_gives_none_or_the_part_that_is_reachable(ctx):
    """A straight line 1 m forward leaves the arm's reach: refused whole; with `prefix`, the
    reachable part comes back and ends where the arm gave up, short of the target."""
    side, site = "left", ctx.spec.end_effectors["left"].tip_site
    ctx.model.set_arm(side, ctx.arm_q(side))
    p0, rot = ctx.model.site_pose(site)
    p1 = p0 + np.array([1.0, 0.0, 0.0])
    assert ctx.line(side, site, "site", rot, p0, p1, ctx.arm_q(side)) is None
    part = ctx.line(side, site, "site", rot, p0, p1, ctx.arm_q(side), prefix=True)
    assert part is not None and 2 <= len(part) < 100
    ctx.model.set_arm(side, part[-1])
    reached = ctx.model.site_pose(site)[0]
    assert 0.02 < reached[0] - p0[0] < 0.9  # it moved forward, and stopped well short of 1 m
