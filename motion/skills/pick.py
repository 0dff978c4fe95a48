"""pick(obj): side grasp of an upright object, lift, and check the grasp physically.

Grasp candidates are a fixed, ordered list (approach pitch x yaw around the shoulder-to-object
direction x height on the object); the first whose grasp pose, pre-grasp pose (10 cm back
along the approach) and straight approach line all solve collision-free is used. The hand
moves to the pre-grasp with OMPL, slides in with the gripper open, closes, and lifts 7 cm.
Success is what the world reports: the object is squeezed by both fingers (`in_hand`) and
rose with the hand. Nothing is welded or teleported.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from humanoid.contracts import FailureReason, Subgoal
from motion.ik import IKTarget
from motion.skills.base import (
    SkillContext,
    SkillFailure,
    approach_rot,
    hand_for,
    object_extent,
    out_of_reach,
    shoulder_pos,
    support_bodies,
)

PITCHES = (0.35, 0.6, 0.0)  # approach pitch below horizontal (rad)
YAW_OFFSETS = (0.0, -0.35, 0.35, -0.7, 0.7)  # around the shoulder-to-object direction (rad)
HEIGHTS = (0.3, 0.6)  # grasp height above the object's centre, in half heights
PREGRASP_BACK_M = 0.10
LIFT_M = 0.07
NEAR_CLEARANCE_M = 0.004  # the last centimetres to an object: slow, and closer to its neighbours
MIN_RISE_FRACTION = 0.5  # the object must rise at least this share of the lift


@dataclass(frozen=True)
class GraspPlan:
    index: int
    rot: np.ndarray
    grasp_pos: np.ndarray
    pre_pos: np.ndarray
    q_pre: np.ndarray
    approach: np.ndarray  # joint path pre-grasp -> grasp


def plan_grasp(ctx: SkillContext, side: str, oid: str) -> GraspPlan | None:
    """The first grasp candidate on an observed object that is reachable and collision-free."""
    o = ctx.object(oid)
    _, half_h = object_extent(ctx, oid)
    return plan_grasp_at(ctx, side, np.asarray(o.pos, dtype=np.float64), half_h, {ctx.model.object_body[oid]})


def plan_grasp_at(
    ctx: SkillContext,
    side: str,
    center: np.ndarray,
    half_h: float,
    touch: set[int],
    heights: tuple[float, ...] = HEIGHTS,
    pitches: tuple[float, ...] = PITCHES,
    roll: float = 0.0,
) -> GraspPlan | None:
    """Side grasp of a vertical shape centred at `center` (a mug, a handle bar).

    `touch` are the bodies the open hand may touch on the way in; `roll` turns the hand about
    the approach axis (pi/2 pinches a horizontal bar from above and below).
    """
    site = ctx.spec.end_effectors[side].grasp_site
    if out_of_reach(ctx, side, site, center):
        return None
    near_obj = ctx.model.body_pairs(ctx.model.hand_bodies[side], touch)
    d = center - shoulder_pos(ctx, side)
    yaw0 = float(np.arctan2(d[1], d[0]))
    ctx.model.set_gripper(side, 1.0)
    for i, (pitch, dyaw, h) in enumerate(itertools.product(pitches, YAW_OFFSETS, heights)):
        rot = approach_rot(yaw0 + dyaw, pitch, roll)
        approach_dir = -rot[:, 2]
        grasp = center + np.array([0.0, 0.0, h * half_h])
        pre = grasp - PREGRASP_BACK_M * approach_dir
        q_grasp = ctx.solve(side, IKTarget(site, grasp, rot), "grasp", allowed=near_obj)
        if q_grasp is None:
            continue
        q_pre = ctx.solve(side, IKTarget(site, pre, rot), "pregrasp", seeds=[q_grasp])
        if q_pre is None:
            continue
        path = ctx.line(side, site, "site", rot, pre, grasp, q_pre, allowed=near_obj)
        if path is None:
            continue
        return GraspPlan(i, rot, grasp, pre, q_pre, path)
    return None


def run(ctx: SkillContext, subgoal: Subgoal) -> dict:
    oid = subgoal.args.get("obj") or subgoal.args.get("object")
    if not oid:
        raise SkillFailure(
            FailureReason.PRECONDITION_FAILED, "pick needs args['obj']", args=dict(subgoal.args)
        )
    o = ctx.object(oid)
    info = ctx.world.objects.get(oid)
    if info is None or not info.graspable or oid not in ctx.model.object_body:
        raise SkillFailure(
            FailureReason.PRECONDITION_FAILED, f"'{oid}' is not a graspable object", object=oid
        )
    if o.attrs.get("in_hand"):
        return {"object": oid, "hand": o.attrs["in_hand"], "note": "already in hand"}
    side = hand_for(ctx, np.asarray(o.pos), subgoal.args.get("hand"))
    if ctx.holding(side):
        raise SkillFailure(
            FailureReason.PRECONDITION_FAILED,
            f"the {side} hand already holds '{ctx.holding(side)}'",
            hand=side,
            holding=ctx.holding(side),
        )
    z0 = float(o.pos[2])
    center = np.asarray(o.pos, dtype=np.float64)
    support = support_bodies(ctx, oid)

    grasp = plan_grasp(ctx, side, oid)
    if grasp is None:
        raise SkillFailure(
            FailureReason.UNREACHABLE,
            f"no reachable collision-free side grasp of '{oid}' with the {side} hand",
            object=oid,
            hand=side,
            object_pos=list(o.pos),
            candidates=len(PITCHES) * len(YAW_OFFSETS) * len(HEIGHTS),
        )
    site = ctx.spec.end_effectors[side].grasp_site
    obj_body = {ctx.model.object_body[oid]}
    near_obj = ctx.model.body_pairs(ctx.model.hand_bodies[side], obj_body)

    ctx.move_arm(side, grasp.q_pre, "pregrasp", opening=1.0)
    # the body sways as the arm reaches out: correct the pre-grasp from the measured pose, then
    # solve the approach again from where the hand is now (slow, close: near clearance)
    o = ctx.object(oid)
    target = np.asarray(o.pos, dtype=np.float64) + (grasp.grasp_pos - center)
    pre = target - PREGRASP_BACK_M * (-grasp.rot[:, 2])
    # the sway can also bring an open finger onto the object itself: touching what is about to be
    # grasped is allowed (a hand-over test's pick stopped on a 5 mm finger-mug overlap here)
    ctx.servo(
        side, IKTarget(site, pre, grasp.rot), "pregrasp_servo", opening=1.0, clearance=NEAR_CLEARANCE_M,
        allowed=near_obj,
    )
    path = ctx.line(
        side,
        site,
        "site",
        grasp.rot,
        _site_pos(ctx, side, site),
        target,
        ctx.arm_q(side),
        allowed=near_obj,
        clearance=NEAR_CLEARANCE_M,
    )
    if path is None:
        path = ctx.line(
            side,
            site,
            "site",
            grasp.rot,
            pre,
            target,
            ctx.arm_q(side),
            allowed=near_obj,
            clearance=NEAR_CLEARANCE_M,
        )
    if path is None:
        raise SkillFailure(
            FailureReason.UNREACHABLE,
            f"the approach to '{oid}' no longer solves after reaching the pre-grasp",
            object=oid,
            hand=side,
        )
    grasp = GraspPlan(grasp.index, grasp.rot, target, pre, path[0], path)
    ctx.follow(side, path, "approach", opening=1.0, allowed=near_obj, clearance=NEAR_CLEARANCE_M)
    ctx.gripper(side, 0.0)
    o = ctx.object(oid)
    if o.attrs.get("in_hand") != side:
        _back_off(ctx, side, grasp)
        raise SkillFailure(
            FailureReason.GRASP_FAILED,
            f"closing the {side} gripper did not squeeze '{oid}' between both fingers",
            object=oid,
            hand=side,
            object_pos=list(o.pos),
            in_hand=o.attrs.get("in_hand"),
        )

    # lift: the model now carries the object with the hand (synced from `in_hand`)
    lift_allowed = ctx.model.body_pairs(obj_body, support) | near_obj
    path = ctx.line(
        side,
        site,
        "site",
        grasp.rot,
        grasp.grasp_pos,
        grasp.grasp_pos + [0.0, 0.0, LIFT_M],
        ctx.arm_q(side),
        allowed=lift_allowed,
    )
    if path is None:
        raise SkillFailure(
            FailureReason.UNREACHABLE,
            f"cannot lift '{oid}' straight up with the {side} hand",
            object=oid,
            hand=side,
        )
    ctx.follow(side, path, "lift", opening=0.0, allowed=lift_allowed)
    lifted = IKTarget(site, grasp.grasp_pos + [0.0, 0.0, LIFT_M], grasp.rot)
    ctx.servo(side, lifted, "lift_servo", opening=0.0, allowed=lift_allowed, tol_m=0.01, iters=2)
    o = ctx.object(oid)
    rise = float(o.pos[2]) - z0
    if o.attrs.get("in_hand") != side or rise < MIN_RISE_FRACTION * LIFT_M:
        raise SkillFailure(
            FailureReason.GRASP_LOST,
            f"'{oid}' did not rise with the {side} hand (rose {rise * 100:.1f} cm of {LIFT_M * 100:.0f})",
            object=oid,
            hand=side,
            rise_m=rise,
            in_hand=o.attrs.get("in_hand"),
        )
    return {
        "object": oid,
        "hand": side,
        "grasp_candidate": grasp.index,
        "rise_m": round(rise, 4),
        "object_pos": list(o.pos),
    }


def _back_off(ctx: SkillContext, side: str, grasp: GraspPlan) -> None:
    """After a failed grasp: open and slide back out along the approach (best effort)."""
    try:
        ctx.gripper(side, 1.0)
        near = ctx.model.body_pairs(ctx.model.hand_bodies[side], set(ctx.model.object_body.values()))
        ctx.follow(side, grasp.approach[::-1], "back_off", opening=1.0, allowed=near)
    except SkillFailure:
        pass


def _site_pos(ctx: SkillContext, side: str, site: str) -> np.ndarray:
    """Where `site` is with the arm at its commanded joints (in the synced model)."""
    q_saved = ctx.model.arm_q(side)
    ctx.model.set_arm(side, ctx.arm_q(side))
    pos, _ = ctx.model.site_pose(site)
    ctx.model.set_arm(side, q_saved)
    return pos
