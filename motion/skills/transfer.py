"""Pass a held object from one hand to the other in front of the chest (not a planner skill).

`transfer(ctx, obj)` is one of motion's bounded fallbacks: `place` and `pour` call it once when
the hand holding the object cannot reach the target but the other, free, hand can
(`transfer_if_other_hand_reaches`, with `hand_reaches` an IK-only test).
The giving hand brings the object upright to an exchange point (a fixed, ordered list in the
robot's base frame); the taking hand side-grasps its lower half, closes, and the giving hand
opens and backs off along its fingers. Both hands are servoed for the body's lean (both arms
forward tip it). Success is the object reported in the other hand.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from humanoid.contracts import FailureReason
from motion.arm_planner import ArmPlan
from motion.ik import IKTarget
from motion.skills.base import (
    SkillContext,
    SkillFailure,
    approach_rot,
    object_extent,
    out_of_reach,
    quat_to_mat,
    rot_z,
    shoulder_pos,
)
from motion.skills.pick import GraspPlan, plan_grasp_at

EXCHANGE_POINTS = (
    (0.45, 0.0, 0.95),
    (0.42, 0.06, 0.92),
    (0.40, 0.0, 1.0),
)  # x, y in the base frame; z above the floor (m)
RECEIVER_HEIGHTS = (-0.45, -0.6)  # the taker grasps below the giver's fingers (half heights)
GIVER_TURNS = (0.0, 0.6, 1.0)  # giver fingers: ahead .. toward the taker (x 90 deg)


@dataclass
class TransferPlan:
    obj: str
    giver: str
    taker: str
    exchange: np.ndarray  # object centre (world)
    q_give: np.ndarray
    give_target: IKTarget  # the giving hand's pose at the exchange
    give_plan: ArmPlan
    grasp: GraspPlan
    take_plan: ArmPlan


def sides(ctx: SkillContext, oid: str) -> tuple[str, str]:
    o = ctx.object(oid)
    giver = o.attrs.get("in_hand")
    if giver not in ctx.spec.end_effectors:
        raise SkillFailure(
            FailureReason.PRECONDITION_FAILED,
            f"not holding '{oid}': nothing to pass to the other hand",
            object=oid,
        )
    taker = next(s for s in ctx.spec.end_effectors if s != giver)
    if ctx.holding(taker):
        raise SkillFailure(
            FailureReason.PRECONDITION_FAILED,
            f"the {taker} hand already holds '{ctx.holding(taker)}'",
            hand=taker,
        )
    return giver, taker


def plan_transfer(ctx: SkillContext, oid: str) -> TransferPlan:
    """IK + OMPL plans for both arms (nothing is executed); raises SkillFailure if none."""
    giver, taker = sides(ctx, oid)
    ee = ctx.spec.end_effectors[giver]
    ob = ctx.model.object_body[oid]
    st = ctx.state
    r_base = quat_to_mat(st.base_quat)
    _, half_h = object_extent(ctx, oid)
    q_now = ctx.model.arm_q(giver)
    ctx.model.set_arm(giver, ctx.arm_q(giver))
    p_h, r_h = ctx.model.body_pose(ee.hand_body)
    offset = p_h - ctx.model.data.xpos[ob]
    yaw_now = float(np.arctan2(-r_h[1, 2], -r_h[0, 2]))
    base_yaw = float(np.arctan2(r_base[1, 0], r_base[0, 0]))
    attempts: list[str] = []
    try:
        for point, turn in itertools.product(EXCHANGE_POINTS, GIVER_TURNS):
            center = st.base_pos + r_base @ np.array([point[0], point[1], 0.0])
            center[2] = point[2]  # heights are above the floor
            toward = base_yaw + (np.pi / 2 if taker == "left" else -np.pi / 2) * turn
            rz = rot_z(toward - yaw_now)
            give_target = IKTarget(ee.hand_body, center + rz @ offset, rz @ r_h, frame_type="body")
            q_give = ctx.solve(giver, give_target, "give")
            if q_give is None:
                attempts.append(f"{point}/{turn}: giver IK")
                continue
            give_plan = ctx.planner.plan(giver, ctx.arm_q(giver), q_give)
            if not give_plan.ok:
                attempts.append(f"{point}/{turn}: giver path: {give_plan.detail}")
                continue
            ctx.model.set_arm(giver, q_give)  # the object moves with the giving hand
            grasp = plan_grasp_at(
                ctx, taker, center, half_h, {ob}, heights=RECEIVER_HEIGHTS, pitches=(0.0, 0.35)
            )
            if grasp is None:
                ctx.model.set_arm(giver, ctx.arm_q(giver))
                attempts.append(f"{point}/{turn}: taker grasp")
                continue
            take_plan = ctx.planner.plan(taker, ctx.arm_q(taker), grasp.q_pre)
            ctx.model.set_arm(giver, ctx.arm_q(giver))
            if not take_plan.ok:
                attempts.append(f"{point}/{turn}: taker path: {take_plan.detail}")
                continue
            return TransferPlan(oid, giver, taker, center, q_give, give_target, give_plan, grasp, take_plan)
    finally:
        ctx.model.set_arm(giver, q_now)
    raise SkillFailure(
        FailureReason.UNREACHABLE,
        f"no exchange point where the {giver} hand can give '{oid}' and the {taker} hand can take it",
        object=oid,
        giver=giver,
        taker=taker,
        attempts=attempts,
    )


def transfer(ctx: SkillContext, oid: str) -> dict:
    """Move `oid` from the hand holding it to the other hand; the new hand's observations."""
    plan = plan_transfer(ctx, oid)
    for side, p, label in (
        (plan.giver, plan.give_plan, "give"),
        (plan.taker, plan.take_plan, "take_pregrasp"),
    ):
        ctx.emit_plan(side, label, p.waypoints, p.planning_time_s, p.status, p.trajectory)
    ctx.send(plan.giver, plan.give_plan.trajectory, "give", opening=0.0)
    # with both arms forward the body leans: bring the object back to the planned exchange point
    ctx.servo(plan.giver, plan.give_target, "give_servo", opening=0.0)
    # re-solve the take from where the object really is now
    o = ctx.object(oid)
    if o.attrs.get("in_hand") != plan.giver:
        raise SkillFailure(
            FailureReason.GRASP_LOST,
            f"'{oid}' slipped out of the {plan.giver} hand on the way to the exchange",
            object=oid,
        )
    _, half_h = object_extent(ctx, oid)
    ob = ctx.model.object_body[oid]
    grasp = plan_grasp_at(
        ctx, plan.taker, np.asarray(o.pos), half_h, {ob}, heights=RECEIVER_HEIGHTS, pitches=(0.0, 0.35)
    )
    if grasp is None:
        raise SkillFailure(
            FailureReason.UNREACHABLE,
            f"the {plan.taker} hand cannot reach '{oid}' at the exchange point",
            object=oid,
        )
    near = ctx.model.body_pairs(ctx.model.hand_bodies[plan.taker], {ob})
    ctx.move_arm(plan.taker, grasp.q_pre, "take_pregrasp", opening=1.0)
    # as pick does: correct the pre-grasp for the sway, then approach from where the hand is
    site = ctx.spec.end_effectors[plan.taker].grasp_site
    shift = np.asarray(ctx.object(oid).pos) - np.asarray(o.pos)
    ctx.servo(
        plan.taker, IKTarget(site, grasp.pre_pos + shift, grasp.rot), "take_pregrasp_servo", opening=1.0
    )
    approach = ctx.line(
        plan.taker,
        site,
        "site",
        grasp.rot,
        ctx.frame_pose(plan.taker, site)[0],
        grasp.grasp_pos + shift,
        ctx.arm_q(plan.taker),
        allowed=near,
    )
    if approach is None:
        raise SkillFailure(
            FailureReason.UNREACHABLE,
            f"the {plan.taker} hand's approach to '{oid}' no longer solves after reaching the pre-grasp",
            object=oid,
        )
    ctx.follow(plan.taker, approach, "take_approach", opening=1.0, allowed=near)
    ctx.gripper(plan.taker, 0.0)
    ctx.gripper(plan.giver, 1.0)
    o = ctx.object(oid)
    if o.attrs.get("in_hand") != plan.taker:
        raise SkillFailure(
            FailureReason.GRASP_FAILED,
            f"the {plan.taker} hand did not take '{oid}'",
            object=oid,
            in_hand=o.attrs.get("in_hand"),
            object_pos=list(o.pos),
        )
    # the giver slides back out along its fingers
    ee = ctx.spec.end_effectors[plan.giver]
    # backing out, the open fingers may brush the object and the taking hand
    near_g = ctx.model.body_pairs(ctx.model.hand_bodies[plan.giver], {ob} | ctx.model.hand_bodies[plan.taker])
    retreated = ctx.back_out(plan.giver, ee.hand_body, "body", "give_retreat", allowed=near_g)
    o = ctx.object(oid)
    if o.attrs.get("in_hand") != plan.taker:
        raise SkillFailure(
            FailureReason.GRASP_LOST,
            f"'{oid}' dropped while passing it between hands",
            object=oid,
            object_pos=list(o.pos),
        )
    return {
        "object": oid,
        "from": plan.giver,
        "to": plan.taker,
        "object_pos": list(o.pos),
        "giver_retreated": retreated,
    }


REACH_PITCHES = (0.0, 0.35)  # the taking hand's grasp pitches (as `plan_grasp_at` above)
REACH_YAWS = (0.0, -0.5, 0.5)  # around the shoulder-to-point direction (rad)


def other_hand(ctx: SkillContext, side: str) -> str:
    return next(s for s in ctx.spec.end_effectors if s != side)


def hand_reaches(ctx: SkillContext, side: str, point: np.ndarray) -> bool:
    """Whether `side`'s grasp site can be at `point` with a side-grasp orientation (IK only, no
    collisions): a cheap test before a transfer, the place/pour plan after it decides."""
    ee = ctx.spec.end_effectors[side]
    if out_of_reach(ctx, side, ee.grasp_site, point):
        return False
    sh = shoulder_pos(ctx, side)
    yaw = float(np.arctan2(point[1] - sh[1], point[0] - sh[0]))
    st = ctx.state
    q_robot = st.q.copy()
    q_robot[ctx.spec.indices(ee.arm)] = ctx.arm_q(side)
    for pitch, dyaw in itertools.product(REACH_PITCHES, REACH_YAWS):
        target = IKTarget(ee.grasp_site, np.asarray(point, dtype=np.float64), approach_rot(yaw + dyaw, pitch))
        if ctx.ik.solve(side, target, q_robot, st.base_pos, st.base_quat).ok:
            return True
    return False


def transfer_if_other_hand_reaches(ctx: SkillContext, oid: str, side: str, point: np.ndarray) -> dict | None:
    """The fallback: when the other hand is free and reaches `point`, pass `oid` to it and return
    the transfer's observations; None when the fallback does not apply (nothing was moved)."""
    other = other_hand(ctx, side)
    if ctx.holding(other) is not None or not hand_reaches(ctx, other, point):
        return None
    return transfer(ctx, oid)
