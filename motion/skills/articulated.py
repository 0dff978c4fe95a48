"""Shared by open and close: grasp a door's or drawer's handle and move it along its joint.

The articulation is found from the scene: the body that carries the geom `<target>_handle`
(or `<body>_handle`) and its hinge or slide joint. The hand follows the handle's path as the
joint turns or slides (a chain of small IK steps), then lets go and backs off.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from humanoid.contracts import FailureReason, Subgoal
from motion.ik import IKTarget
from motion.skills.base import SkillContext, SkillFailure, hand_for
from motion.skills.pick import GraspPlan, plan_grasp_at

OPEN_HINGE_RAD = 1.0  # how far `open` turns a door (toward its range's far end)
OPEN_SLIDE_M = 0.25
PATH_STEPS = 16


@dataclass(frozen=True)
class Articulation:
    target: str
    body: int
    parent: int
    joint: int
    kind: str  # hinge | slide
    axis: np.ndarray  # world
    anchor: np.ndarray  # world point on the axis
    handle: int  # geom id
    open_value: float  # joint value that counts as open for this skill


@dataclass
class OperatePlan:
    side: str
    grasp: GraspPlan
    path: np.ndarray  # joint path of the arm while the handle moves


def find_articulation(ctx: SkillContext, target: str) -> Articulation:
    m, d = ctx.model.model, ctx.model.data
    candidates = [f"{target}_handle"] + [
        f"{m.body(b).name}_handle" for b in range(m.nbody) if m.body(b).name.startswith(target)
    ]
    for name in candidates:
        g = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_GEOM, name)
        if g < 0:
            continue
        b = int(m.geom_bodyid[g])
        if m.body_jntnum[b] < 1:
            continue
        j = int(m.body_jntadr[b])
        kind = {int(mujoco.mjtJoint.mjJNT_HINGE): "hinge", int(mujoco.mjtJoint.mjJNT_SLIDE): "slide"}.get(
            int(m.jnt_type[j])
        )
        if kind is None:
            continue
        lo, hi = m.jnt_range[j]
        far = lo if abs(lo) > abs(hi) else hi
        amount = OPEN_HINGE_RAD if kind == "hinge" else OPEN_SLIDE_M
        return Articulation(
            target=target,
            body=b,
            parent=int(m.body_parentid[b]),
            joint=j,
            kind=kind,
            axis=d.xmat[b].reshape(3, 3) @ m.jnt_axis[j],
            anchor=d.xpos[b] + d.xmat[b].reshape(3, 3) @ m.jnt_pos[j],
            handle=g,
            open_value=float(np.sign(far) * min(abs(far), amount)),
        )
    raise SkillFailure(
        FailureReason.PRECONDITION_FAILED,
        f"'{target}' has no handle on a hinged or sliding part",
        target=target,
    )


def _moved(art: Articulation, delta: float, p: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A point and frame carried along by the joint moving by `delta` from now."""
    if art.kind == "slide":
        return p + art.axis * delta, r
    a = art.axis / np.linalg.norm(art.axis)
    k = np.array([[0.0, -a[2], a[1]], [a[2], 0.0, -a[0]], [-a[1], a[0], 0.0]])
    rot = np.eye(3) + np.sin(delta) * k + (1 - np.cos(delta)) * k @ k
    return art.anchor + rot @ (p - art.anchor), rot @ r


def plan_operate(
    ctx: SkillContext, art: Articulation, q_from: float, q_to: float, hand: str | None = None
) -> OperatePlan:
    """Grasp of the handle and the arm's joint path that moves the part from q_from to q_to."""
    m, d = ctx.model.model, ctx.model.data
    handle = d.geom_xpos[art.handle].copy()
    side = hand_for(ctx, handle, hand)
    size = m.geom_size[art.handle]
    vertical_bar = size[2] >= max(size[0], size[1])
    touch = {art.body, art.parent}
    grasp = plan_grasp_at(
        ctx,
        side,
        handle,
        float(size[2]),
        touch,
        heights=(0.0,),
        pitches=(0.0, 0.35),
        roll=0.0 if vertical_bar else np.pi / 2,
    )
    if grasp is None:
        raise SkillFailure(
            FailureReason.UNREACHABLE,
            f"the {side} hand cannot grasp the handle of '{art.target}'",
            target=art.target,
            hand=side,
            handle=handle.tolist(),
        )
    site = ctx.spec.end_effectors[side].grasp_site
    allowed = ctx.model.body_pairs(ctx.model.hand_bodies[side], touch)
    path = [grasp.approach[-1]]
    for q in np.linspace(q_from, q_to, PATH_STEPS + 1)[1:]:
        p, r = _moved(art, q - q_from, grasp.grasp_pos, grasp.rot)
        nxt = ctx.solve_local(side, IKTarget(site, p, r), path[-1], allowed, None)
        if nxt is None:
            raise SkillFailure(
                FailureReason.UNREACHABLE,
                f"the {side} hand cannot follow the handle of '{art.target}' to {q:+.2f} ({art.kind})",
                target=art.target,
                hand=side,
                reached=float(q),
            )
        path.append(nxt)
    return OperatePlan(side, grasp, np.asarray(path))


def operate(ctx: SkillContext, subgoal: Subgoal, opening: bool) -> dict:
    target = subgoal.args.get("target") or subgoal.args.get("obj")
    if not target:
        raise SkillFailure(
            FailureReason.PRECONDITION_FAILED,
            f"{subgoal.skill} needs args['target']",
            args=dict(subgoal.args),
        )
    t = ctx.object(target)
    if t.attrs.get("open") is opening:
        return {"target": target, "open": opening, "note": "already " + ("open" if opening else "closed")}
    art = find_articulation(ctx, target)
    q_from, q_to = (0.0, art.open_value) if opening else (art.open_value, 0.0)
    ctx.model.set_joint(art.joint, q_from)
    plan = plan_operate(ctx, art, q_from, q_to, subgoal.args.get("hand"))
    side = plan.side
    touch = ctx.model.body_pairs(ctx.model.hand_bodies[side], {art.body, art.parent})
    ctx.move_arm(side, plan.grasp.q_pre, "pregrasp_handle", opening=1.0)
    ctx.follow(side, plan.grasp.approach, "approach_handle", opening=1.0, allowed=touch)
    ctx.gripper(side, 0.0)
    ctx.follow(side, plan.path, "open" if opening else "close", opening=0.0, allowed=touch)
    ctx.gripper(side, 1.0)
    ee = ctx.spec.end_effectors[side]
    ctx.back_out(side, ee.grasp_site, "site", "retreat_handle", allowed=touch)
    t = ctx.object(target)
    if t.attrs.get("open") is not None and t.attrs.get("open") is not opening:
        raise SkillFailure(
            FailureReason.PRECONDITION_FAILED,
            f"'{target}' is not {'open' if opening else 'closed'} after moving its handle",
            target=target,
            open=t.attrs.get("open"),
        )
    return {"target": target, "open": opening, "hand": side}
