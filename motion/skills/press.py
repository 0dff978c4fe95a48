"""press(target): push an appliance's button with the fingertip along its press direction.

The button is the body `<target>_button` with a slide joint; its axis is the press
direction. With the gripper closed (the fingers together make the fingertip), the hand goes
6 cm in front of the button face with OMPL, pushes straight in to 1.5 cm beyond the face,
and comes back out. The press is verified from the robot's own joints: the fingertip must
have reached past the depth that counts as pressed; the appliance's reported state is
returned for the planner to check the effect (e.g. a mug filling).
"""

from __future__ import annotations

import mujoco
import numpy as np

from humanoid.contracts import FailureReason, Subgoal
from motion.ik import IKTarget
from motion.skills.base import SkillContext, SkillFailure, hand_for

PRE_M = 0.06
PRESS_DEPTH_M = 0.015  # beyond first contact with the button face
PRESSED_M = 0.008  # travel that counts as pressed (the appliance's own threshold)


def button_geometry(ctx: SkillContext, target: str) -> tuple[int, np.ndarray, np.ndarray]:
    """(button body, face centre, press direction) in the world, from the synced model."""
    m, d = ctx.model.model, ctx.model.data
    bid = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, f"{target}_button")
    if bid < 0 or m.body_jntnum[bid] < 1:
        raise SkillFailure(FailureReason.PRECONDITION_FAILED, f"'{target}' has no button to press", target=target)
    jid = m.body_jntadr[bid]
    axis = d.xmat[bid].reshape(3, 3) @ m.jnt_axis[jid]
    geoms = [g for g in range(m.ngeom) if m.geom_bodyid[g] == bid]
    g = geoms[0]
    r_g = d.geom_xmat[g].reshape(3, 3)
    depth = float(np.abs(r_g.T @ axis) @ m.geom_size[g])  # box half extent along the axis
    face = d.geom_xpos[g] - axis * depth
    return bid, face, axis


def finger_overhang(ctx: SkillContext, side: str) -> float:
    """How far the fingers reach beyond the tip site along the pointing direction (hand -z)."""
    m, d = ctx.model.model, ctx.model.data
    ee = ctx.spec.end_effectors[side]
    p_tip, r_h = ctx.model.site_pose(ee.tip_site)
    z = -r_h[:, 2]
    reach = 0.0
    for j in ctx.spec.joint_groups[ee.gripper]:
        g = next(g for g in range(m.ngeom) if m.geom_bodyid[g] == m.jnt_bodyid[m.joint(j).id])
        r_g = d.geom_xmat[g].reshape(3, 3)
        end = (d.geom_xpos[g] - p_tip) @ z + float(np.abs(r_g.T @ z) @ m.geom_size[g])
        reach = max(reach, end)
    return reach


def run(ctx: SkillContext, subgoal: Subgoal) -> dict:
    target = subgoal.args.get("target") or subgoal.args.get("obj")
    if not target:
        raise SkillFailure(FailureReason.PRECONDITION_FAILED, "press needs args['target']", args=dict(subgoal.args))
    t = ctx.object(target)
    if t.attrs.get("powered") is False:
        raise SkillFailure(FailureReason.APPLIANCE_UNAVAILABLE, f"'{target}' reports no power", target=target, powered=False)
    bid, face, axis = button_geometry(ctx, target)
    side = hand_for(ctx, face, subgoal.args.get("hand"))
    if ctx.holding(side):
        other = next(s for s in ctx.spec.end_effectors if s != side)
        if ctx.holding(other):
            raise SkillFailure(FailureReason.PRECONDITION_FAILED, "both hands are full", target=target)
        side = other
    ee = ctx.spec.end_effectors[side]
    z = -axis  # fingers (hand -z) point along the press direction
    y = np.cross([0.0, 0.0, 1.0], axis)
    y = y / np.linalg.norm(y) if np.linalg.norm(y) > 1e-6 else np.array([0.0, 1.0, 0.0])
    rot = np.column_stack([np.cross(y, z), y, z])
    ctx.model.set_gripper(side, 0.0)
    ctx.model.set_arm(side, ctx.arm_q(side))
    overhang = finger_overhang(ctx, side)
    pre = face - axis * (PRE_M + overhang)
    press = face + axis * (PRESS_DEPTH_M - overhang)
    appliance = int(ctx.model.model.body_parentid[bid])
    allowed = ctx.model.body_pairs(ctx.model.hand_bodies[side], {bid, appliance})
    q_pre = ctx.solve(side, IKTarget(ee.tip_site, pre, rot, free_axis=2), "prepress")
    if q_pre is None:
        raise SkillFailure(FailureReason.UNREACHABLE, f"the {side} fingertip cannot reach in front of '{target}''s button", target=target, hand=side, button_face=face.tolist())
    push = ctx.line(side, ee.tip_site, "site", rot, pre, press, q_pre, allowed=allowed, free_axis=2)
    if push is None:
        raise SkillFailure(FailureReason.UNREACHABLE, f"the {side} fingertip cannot push '{target}''s button straight in", target=target, hand=side)

    if ctx.grip_ref[0 if side == "left" else 1] > 0.05:
        ctx.gripper(side, 0.0, settle_s=0.1)
    ctx.move_arm(side, q_pre, "prepress", opening=0.0)
    ctx.model.set_arm(side, ctx.arm_q(side))
    p_now, _ = ctx.model.site_pose(ee.tip_site)
    push = ctx.line(side, ee.tip_site, "site", rot, p_now, press, ctx.arm_q(side), allowed=allowed, free_axis=2) or push
    ctx.follow(side, push, "push", opening=0.0, allowed=allowed, settle_s=0.3)
    # how far the fingers really went in: forward kinematics of the measured joints
    tip, _ = ctx.model.site_pose(ee.tip_site)
    travel = float((tip - face) @ axis + overhang)
    ctx.follow(side, push[::-1], "release", opening=0.0, allowed=allowed, settle_s=0.2)
    if travel < PRESSED_M:
        raise SkillFailure(
            FailureReason.UNREACHABLE,
            f"the fingertip stopped {max(0.0, PRESSED_M - travel) * 1000:.1f} mm short of pressing '{target}''s button",
            target=target, hand=side, travel_m=travel,
        )
    t = ctx.object(target)
    return {"target": target, "hand": side, "travel_m": round(travel, 4), "powered": t.attrs.get("powered")}
