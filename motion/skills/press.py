"""press(target): push an appliance's button, or touch its switch, with the fingertip.

Two kinds of control, found in the synced model by name:
- a button, the body `<target>_button` with a slide joint (the coffee machine): its axis is the
  press direction. The fingertip pushes straight in to 1.5 cm beyond the face and comes back out;
  the press counts once the finger ends have gone past the depth the appliance counts as pressed.
- a touch switch, the geom `<target>_switch` on the appliance's side (the kettle): the press
  direction is horizontal, from the switch toward the appliance's centre. The fingertip comes to
  rest on the switch (no push: the kettle is a free body that a push would shove along the
  counter) and counts once it is within the switch's reach.
Either way the gripper is closed (the fingers together make the fingertip), the hand goes in
front of the control with OMPL and approaches along the press direction; the press is verified
from the robot's own joints, and the appliance's reported state is returned for the planner to
check the effect (a mug filling, the kettle heating).
"""

from __future__ import annotations

import mujoco
import numpy as np

from humanoid.contracts import FailureReason, Subgoal
from motion.ik import IKTarget
from motion.skills.base import SkillContext, SkillFailure, hand_for
from motion.trajectory import DEFAULT_LIMITS

STANDOFF_M = 0.15  # transit target in front of the button
NEAR_M = 0.03  # last stop before the push
PUSH_RETRIES = 4
TRAVEL_MARGIN_M = 0.002
PRESS_DEPTH_M = 0.03  # commanded beyond the face: the PD arm and the body give way by ~1.5 cm
PRESSED_M = 0.008  # travel that counts as pressed (the appliance's own threshold)
SWITCH_REACH_M = 0.02  # fingertip distance at which a touch switch counts (bridge/sim_world.py's)
SWITCH_AIM_M = 0.008  # the fingertip stops this far in front of the switch's centre
SWITCH_TOL_M = 0.004  # servo tolerance on that aim


def has_button(ctx: SkillContext, target: str) -> bool:
    m = ctx.model.model
    bid = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, f"{target}_button")
    return bid >= 0 and m.body_jntnum[bid] >= 1


def switch_geometry(ctx: SkillContext, target: str) -> tuple[int, np.ndarray, np.ndarray] | None:
    """(appliance body, switch centre, press direction) for a touch switch, or None if there is none."""
    m, d = ctx.model.model, ctx.model.data
    gid = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_GEOM, f"{target}_switch")
    if gid < 0:
        return None
    body = int(m.geom_bodyid[gid])
    centre = d.geom_xpos[gid].copy()
    axis = d.xpos[body] - centre
    axis[2] = 0.0  # the switch sits on the appliance's side: press horizontally, toward its middle
    if np.linalg.norm(axis) < 1e-6:
        raise SkillFailure(
            FailureReason.PRECONDITION_FAILED,
            f"'{target}''s switch is not on its side (no horizontal press direction)",
            target=target,
        )
    return body, centre, axis / np.linalg.norm(axis)


def button_geometry(ctx: SkillContext, target: str) -> tuple[int, np.ndarray, np.ndarray]:
    """(button body, face centre, press direction) in the world, from the synced model."""
    m, d = ctx.model.model, ctx.model.data
    if not has_button(ctx, target):
        raise SkillFailure(
            FailureReason.PRECONDITION_FAILED, f"'{target}' has no button to press", target=target
        )
    bid = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, f"{target}_button")
    jid = m.body_jntadr[bid]
    axis = d.xmat[bid].reshape(3, 3) @ m.jnt_axis[jid]
    geoms = [g for g in range(m.ngeom) if m.geom_bodyid[g] == bid]
    g = geoms[0]
    r_g = d.geom_xmat[g].reshape(3, 3)
    depth = float(np.abs(r_g.T @ axis) @ m.geom_size[g])  # box half extent along the axis
    face = d.geom_xpos[g] - axis * depth
    return bid, face, axis


def button_half_width(ctx: SkillContext, bid: int) -> float:
    """The smaller half-extent of the button face (how far off-centre a push may land)."""
    m = ctx.model.model
    g = next(g for g in range(m.ngeom) if m.geom_bodyid[g] == bid)
    return float(np.sort(m.geom_size[g])[1])


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


MAX_APPLIANCE_WAIT_S = 5.0
APPLIANCE_POLL_S = 0.25


def run(ctx: SkillContext, subgoal: Subgoal) -> dict:
    target = subgoal.args.get("target") or subgoal.args.get("obj")
    if not target:
        raise SkillFailure(
            FailureReason.PRECONDITION_FAILED, "press needs args['target']", args=dict(subgoal.args)
        )
    t = ctx.object(target)
    if t.attrs.get("powered") is False:
        raise SkillFailure(
            FailureReason.APPLIANCE_UNAVAILABLE, f"'{target}' reports no power", target=target, powered=False
        )
    switch = None if has_button(ctx, target) else switch_geometry(ctx, target)
    if switch is None:
        if not has_button(ctx, target):
            raise SkillFailure(
                FailureReason.PRECONDITION_FAILED,
                f"'{target}' has neither a button (body '{target}_button') nor a switch (geom '{target}_switch') to press",
                target=target,
            )
        bid, face, axis = button_geometry(ctx, target)
        appliance = int(ctx.model.model.body_parentid[bid])
        touch = {bid, appliance}
    else:
        appliance, face, axis = switch
        bid, touch = -1, {appliance}
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
    far = face - axis * (STANDOFF_M + overhang)
    near = face - axis * (NEAR_M + overhang)
    if switch is None:
        end = face + axis * (PRESS_DEPTH_M - overhang)
    else:  # the finger ends stop just short of the appliance's side, the tip site on the switch
        end = face - axis * max(SWITCH_AIM_M, overhang + 0.003)
    allowed = ctx.model.body_pairs(ctx.model.hand_bodies[side], touch)
    q_far = ctx.solve(side, IKTarget(ee.tip_site, far, rot, free_axis=2), "prepress")
    if q_far is None:
        raise SkillFailure(
            FailureReason.UNREACHABLE,
            f"the {side} fingertip cannot reach in front of '{target}''s {'button' if switch is None else 'switch'}",
            target=target,
            hand=side,
            button_face=face.tolist(),
        )
    if ctx.line(side, ee.tip_site, "site", rot, far, end, q_far, allowed=allowed, free_axis=2) is None:
        raise SkillFailure(
            FailureReason.UNREACHABLE,
            f"the {side} fingertip cannot {'push' if switch is None else 'reach'} '{target}''s "
            f"{'button straight in' if switch is None else 'switch'}",
            target=target,
            hand=side,
        )

    if ctx.grip_ref[0 if side == "left" else 1] > 0.05:
        ctx.gripper(side, 0.0, settle_s=0.1)
    # Stages, each re-solved from the measured pose: the body leans as the arm reaches out,
    # so a pose planned from the upright stance lands centimetres off.
    ctx.move_arm(side, q_far, "prepress", opening=0.0)
    ctx.servo(side, IKTarget(ee.tip_site, far, rot, free_axis=2), "prepress_servo", opening=0.0)
    _line_to(ctx, side, rot, near, "approach", set())
    near_err = ctx.servo(
        side, IKTarget(ee.tip_site, near, rot, free_axis=2), "approach_servo", opening=0.0, allowed=allowed
    )
    if switch is None:
        result = _push_button(ctx, target, side, rot, face, axis, overhang, far, end, bid, touch, near_err)
    else:
        result = _touch_switch(ctx, target, side, rot, face, far, end, touch)
    # The press started the appliance: wait (bounded) until it reports it has finished, so
    # the subgoal's effect (a full mug, a hot kettle) is there to observe when the skill returns.
    waited = 0.0
    while ctx.object(target).attrs.get("busy") and waited < MAX_APPLIANCE_WAIT_S:
        ctx.hold(APPLIANCE_POLL_S, "wait_appliance")
        ctx.observe()
        waited += APPLIANCE_POLL_S
    t = ctx.object(target)
    if t.attrs.get("busy"):
        raise SkillFailure(
            FailureReason.TIMEOUT, f"'{target}' was still busy {waited:.1f} s after the press", target=target
        )
    return {
        "target": target,
        "hand": side,
        "waited_s": round(waited, 2),
        **result,
        "powered": t.attrs.get("powered"),
    }


def _push_button(
    ctx: SkillContext,
    target: str,
    side: str,
    rot: np.ndarray,
    face: np.ndarray,
    axis: np.ndarray,
    overhang: float,
    far: np.ndarray,
    press: np.ndarray,
    bid: int,
    touch: set[int],
    near_err: float,
) -> dict:
    """Push the button in past its pressed depth and come back out; raises if it was missed."""
    ee = ctx.spec.end_effectors[side]
    allowed = ctx.model.body_pairs(ctx.model.hand_bodies[side], touch)
    push = _line_to(ctx, side, rot, press, "push", touch, settle_s=0.3)
    # The push shoves the body back: push again from where the body now is, until the
    # fingertip has gone in far enough (bounded; stopping early avoids a second press).
    reach = IKTarget(ee.tip_site, press, rot, free_axis=2, orientation_cost=0.1, orientation_tol=0.3)
    for _ in range(PUSH_RETRIES):
        if _travel(ctx, side, face, axis, overhang)[0] >= PRESSED_M + TRAVEL_MARGIN_M:
            break
        ctx.servo(side, reach, "push_servo", opening=0.0, allowed=allowed, tol_m=0.002, iters=1, partial=True)
    travel, lateral = _travel(ctx, side, face, axis, overhang)
    _back_out(ctx, side, rot, press, far, push, allowed)
    if lateral > button_half_width(ctx, bid):
        raise SkillFailure(
            FailureReason.UNREACHABLE,
            f"the fingertip missed '{target}''s button by {lateral * 1000:.0f} mm (body sway?)",
            target=target,
            hand=side,
            lateral_error_m=lateral,
            approach_error_m=near_err,
        )
    if travel < PRESSED_M:
        raise SkillFailure(
            FailureReason.UNREACHABLE,
            f"the fingertip stopped {max(0.0, PRESSED_M - travel) * 1000:.1f} mm short of pressing '{target}''s button",
            target=target,
            hand=side,
            travel_m=travel,
        )
    return {"travel_m": round(float(travel), 4), "lateral_error_m": round(float(lateral), 4)}


def _touch_switch(
    ctx: SkillContext,
    target: str,
    side: str,
    rot: np.ndarray,
    centre: np.ndarray,
    far: np.ndarray,
    aim: np.ndarray,
    touch: set[int],
) -> dict:
    """Bring the fingertip onto the switch, hold it there a moment and come back; raises if it stayed off."""
    ee = ctx.spec.end_effectors[side]
    allowed = ctx.model.body_pairs(ctx.model.hand_bodies[side], touch)
    path = _line_to(ctx, side, rot, aim, "touch", touch, settle_s=0.3)
    ctx.servo(
        side,
        IKTarget(ee.tip_site, aim, rot, free_axis=2),
        "touch_servo",
        opening=0.0,
        allowed=allowed,
        tol_m=SWITCH_TOL_M,
        iters=2,
    )
    off = float(np.linalg.norm(ctx.frame_pose(side, ee.tip_site)[0] - centre))
    _back_out(ctx, side, rot, aim, far, path, allowed)
    if off > SWITCH_REACH_M:
        raise SkillFailure(
            FailureReason.UNREACHABLE,
            f"the fingertip stayed {off * 1000:.0f} mm from '{target}''s switch (it counts within "
            f"{SWITCH_REACH_M * 1000:.0f} mm)",
            target=target,
            hand=side,
            switch_distance_m=off,
        )
    return {"switch_distance_m": round(off, 4)}


def _back_out(
    ctx: SkillContext,
    side: str,
    rot: np.ndarray,
    end: np.ndarray,
    far: np.ndarray,
    way_in: np.ndarray,
    allowed: frozenset,
) -> None:
    """Straight back out to the stand-off, or the way in reversed where no straight line solves."""
    ee = ctx.spec.end_effectors[side]
    back = ctx.line(side, ee.tip_site, "site", rot, end, far, ctx.arm_q(side), allowed=allowed, free_axis=2)
    ctx.follow(
        side,
        back if back is not None else way_in[::-1],
        "release",
        opening=0.0,
        allowed=allowed,
        settle_s=0.2,
        limits=DEFAULT_LIMITS,
    )


def _line_to(
    ctx: SkillContext,
    side: str,
    rot: np.ndarray,
    goal: np.ndarray,
    label: str,
    touch: set[int],
    settle_s: float = 0.2,
) -> np.ndarray:
    """Straight fingertip line from the measured tip to `goal`; `touch` bodies may be touched."""
    ee = ctx.spec.end_effectors[side]
    allowed = ctx.model.body_pairs(ctx.model.hand_bodies[side], touch) if touch else frozenset()
    p_now, _ = ctx.frame_pose(side, ee.tip_site)
    path = ctx.line(
        side, ee.tip_site, "site", rot, p_now, goal, ctx.arm_q(side), allowed=allowed, free_axis=2
    )
    if path is None:
        raise SkillFailure(
            FailureReason.UNREACHABLE,
            f"press: no straight fingertip line for '{label}'",
            hand=side,
            motion=label,
        )
    ctx.follow(side, path, label, opening=0.0, allowed=allowed, settle_s=settle_s)
    return path


def _travel(
    ctx: SkillContext, side: str, face: np.ndarray, axis: np.ndarray, overhang: float
) -> tuple[float, float]:
    """(depth of the finger ends past the button face, off-centre distance), measured."""
    tip, _ = ctx.frame_pose(side, ctx.spec.end_effectors[side].tip_site)
    rel = tip - face
    depth = float(rel @ axis)
    return depth + overhang, float(np.linalg.norm(rel - depth * axis))
