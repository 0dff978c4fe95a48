"""pour(obj, target): tilt a held container over a target container and set it upright again.

The held object is brought upright above the target (a fixed list of heights and hand
yaws), then tilted about a horizontal axis through its centre to beyond the pouring angle,
held, and tilted back. The tilt is a chain of small IK steps (a rotation, not a line).
Success is the target reporting new contents, or, for what a sensor cannot see (instant coffee
powder in a mug), the object measured at the flowing angle over the target. When the holding hand cannot pour over the
target but the other (free) hand reaches above it, the object changes hands first (`transfer`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from humanoid.contracts import FailureReason, Subgoal
from motion.arm_planner import ArmPlan
from motion.ik import IKTarget
from motion.skills.base import SkillContext, SkillFailure, object_extent, quat_to_mat, rot_z, shoulder_pos
from motion.skills.transfer import transfer_if_other_hand_reaches

TILT_RAD = 1.3  # beyond the 1.1 rad at which the sim lets contents flow
TILT_STEPS = 13
CLEARANCE_ABOVE_M = 0.05
HOLD_S = 1.0
FLOW_TILT_RAD = 1.1  # the simulated containers' own thresholds (bridge/appliances.py): contents flow
OVER_TARGET_M = 0.08  # past this tilt with the centre this close (horizontally) to the target's
YAW_OFFSETS = (0.0, -0.4, 0.4)


@dataclass
class PourPlan:
    side: str
    q_above: np.ndarray
    move: ArmPlan
    tilt: np.ndarray  # joint path upright -> tilted


def tilt_axes(fingers: np.ndarray) -> tuple[np.ndarray, ...]:
    """Horizontal tilt axes through the held object, in the order tried: across the fingers (the
    wrist pitches the object forward), then along them, both ways (the forearm rolls it, as a
    person pours: the rotation is about the hand's own axis, so the hand stays where it is; it
    reaches over a mug straight ahead where pitching forward runs out of wrist range)."""
    return (np.cross([0.0, 0.0, 1.0], fingers), fingers, -fingers)


def _axis_rot(axis: np.ndarray, angle: float) -> np.ndarray:
    a = axis / np.linalg.norm(axis)
    k = np.array([[0.0, -a[2], a[1]], [a[2], 0.0, -a[0]], [-a[1], a[0], 0.0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def plan_pour(ctx: SkillContext, oid: str, target: str) -> PourPlan:
    o = ctx.object(oid)
    side = o.attrs.get("in_hand")
    if side not in ctx.spec.end_effectors:
        raise SkillFailure(
            FailureReason.PRECONDITION_FAILED, f"not holding '{oid}': pick it first", object=oid
        )
    t = ctx.object(target)
    ee = ctx.spec.end_effectors[side]
    ob = ctx.model.object_body[oid]
    _, h_obj = object_extent(ctx, oid)
    h_tgt = object_extent(ctx, target)[1] if target in ctx.model.object_body else 0.0
    ctx.model.set_arm(side, ctx.arm_q(side))
    p_h, r_h = ctx.model.body_pose(ee.hand_body)
    offset = p_h - ctx.model.data.xpos[ob]
    yaw_now = float(np.arctan2(-r_h[1, 2], -r_h[0, 2]))
    sh = shoulder_pos(ctx, side)
    top = np.asarray(t.pos) + [0.0, 0.0, h_tgt + h_obj + CLEARANCE_ABOVE_M]
    yaw_goal = float(np.arctan2(top[1] - sh[1], top[0] - sh[0]))
    for dyaw in YAW_OFFSETS:
        rz = rot_z(yaw_goal - yaw_now + dyaw)
        rot, p_hand = rz @ r_h, top + rz @ offset
        q_above = ctx.solve(side, IKTarget(ee.hand_body, p_hand, rot, frame_type="body"), "pour_above")
        if q_above is None:
            continue
        fingers = -rot[:, 2]
        fingers_h = fingers - [0.0, 0.0, fingers[2]]
        if np.linalg.norm(fingers_h) < 1e-6:
            continue
        for axis in tilt_axes(fingers_h / np.linalg.norm(fingers_h)):
            path = [q_above]
            for ang in np.linspace(0.0, TILT_RAD, TILT_STEPS)[1:]:
                r_t = _axis_rot(axis, ang)
                tgt = IKTarget(ee.hand_body, top + r_t @ (p_hand - top), r_t @ rot, frame_type="body")
                q = ctx.solve_local(side, tgt, path[-1], frozenset(), None)
                if q is None:
                    break
                path.append(q)
            if len(path) < TILT_STEPS:
                continue
            move = ctx.planner.plan(side, ctx.arm_q(side), q_above)
            if move.ok:
                return PourPlan(side, q_above, move, np.asarray(path))
    raise SkillFailure(
        FailureReason.UNREACHABLE,
        f"cannot tilt '{oid}' over '{target}' with the {side} hand",
        object=oid,
        target=target,
        hand=side,
    )


def run(ctx: SkillContext, subgoal: Subgoal) -> dict:
    oid = subgoal.args.get("obj") or subgoal.args.get("object")
    target = subgoal.args.get("target")
    if not oid or not target:
        raise SkillFailure(
            FailureReason.PRECONDITION_FAILED,
            "pour needs args['obj'] and args['target']",
            args=dict(subgoal.args),
        )
    before = ctx.object(target).attrs.get("contains")
    transferred: dict | None = None
    try:
        plan = plan_pour(ctx, oid, target)
    except SkillFailure as f:
        # the one fallback: the other (free) hand reaches above the target, so it pours instead
        if f.reason != FailureReason.UNREACHABLE:
            raise
        t = ctx.object(target)
        h_tgt = object_extent(ctx, target)[1] if target in ctx.model.object_body else 0.0
        above = np.asarray(t.pos) + [0.0, 0.0, h_tgt + object_extent(ctx, oid)[1] + CLEARANCE_ABOVE_M]
        transferred = transfer_if_other_hand_reaches(ctx, oid, f.observations["hand"], above)
        if transferred is None:
            raise
        plan = plan_pour(ctx, oid, target)
    ctx.emit_plan(
        plan.side,
        "pour_above",
        plan.move.waypoints,
        plan.move.planning_time_s,
        plan.move.status,
        plan.move.trajectory,
    )
    ctx.send(plan.side, plan.move.trajectory, "pour_above", opening=0.0)
    ctx.follow(plan.side, plan.tilt, "tilt", opening=0.0, settle_s=HOLD_S)
    tilt, off = pour_pose(ctx, oid, target)
    ctx.follow(plan.side, plan.tilt[::-1], "untilt", opening=0.0)
    t = ctx.object(target)
    if ctx.object(oid).attrs.get("in_hand") != plan.side:
        raise SkillFailure(FailureReason.GRASP_LOST, f"'{oid}' slipped out while pouring", object=oid)
    seen = t.attrs.get("contains") != before
    # Not everything that flows shows: instant coffee powder in a mug reads as an empty mug
    # until the water is on it. A pour held at the flowing angle over the target counts then.
    if not seen and (tilt < FLOW_TILT_RAD or off > OVER_TARGET_M):
        raise SkillFailure(
            FailureReason.PRECONDITION_FAILED,
            f"nothing flowed from '{oid}' into '{target}' (held at {tilt:.2f} rad tilt, {off * 100:.1f} cm "
            f"off its centre; it flows past {FLOW_TILT_RAD} rad within {OVER_TARGET_M * 100:.0f} cm)",
            object=oid,
            target=target,
            contains=before,
            tilt_rad=round(tilt, 3),
            off_centre_m=round(off, 4),
        )
    return {
        "object": oid,
        "target": target,
        "hand": plan.side,
        "contains": t.attrs.get("contains"),
        "transferred_from": transferred["from"] if transferred else None,
        "tilt_rad": round(tilt, 3),
        "off_centre_m": round(off, 4),
        "contents_seen": seen,
    }


def pour_pose(ctx: SkillContext, oid: str, target: str) -> tuple[float, float]:
    """(tilt of the held object from upright, horizontal distance of its centre from the target's), measured."""
    o, t = ctx.object(oid), ctx.object(target)
    z = quat_to_mat(np.asarray(o.quat))[:, 2]
    tilt = float(np.arccos(np.clip(z[2], -1.0, 1.0)))
    return tilt, float(np.linalg.norm(np.asarray(o.pos[:2]) - np.asarray(t.pos[:2])))
