"""place(obj, target): set a held object down on a free spot of the target's place region.

Spots are a fixed list over the region (centre first), skipping those other objects occupy.
For each spot and a few hand yaws the hand pose that puts the object (as it sits in the hand)
upright 1 cm above the surface is solved, and a pre-place pose 8 cm above it. The arm moves
there with OMPL, lowers straight down, opens, and slides back out along the fingers. Success
is the observed object at rest inside the region and out of the hand. When the holding hand
cannot place it but the other (free) hand can, the object changes hands first (`transfer`).

A bin (the trash can) is deep: the surface under a spot lies more than `BIN_DEPTH_M` below the
region's top, where no hand sets anything down. There the object is dropped in: the arm moves
straight to a release pose over the opening (the object's bottom just above the region's top,
no pre-place pose, no lowering), steadies the hand there, opens, and the object falls inside.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import mujoco
import numpy as np

from humanoid.contracts import FailureReason, Subgoal
from motion.ik import IKTarget
from motion.skills.base import (
    SkillContext,
    SkillFailure,
    object_extent,
    quat_to_mat,
    rot_z,
    shoulder_pos,
)
from motion.skills.transfer import other_hand, transfer_if_other_hand_reaches

ABOVE_M = 0.08
NEAR_CLEARANCE_M = 0.004  # while setting down, the hand may come this close to the surface
DROPS_M = (0.01, 0.025)  # release heights of the object's bottom, tried in order (a low grasp needs more)
SPOT_STEP_M = 0.05
MAX_SPOTS = 6
SMALL_REGION_M = (
    0.15  # a region this small (half extent) is used in its middle: the coffee slot, the user's spot
)
WORK_AHEAD_M = 0.4  # spots are tried nearest first to a point this far ahead (`work_point`)
YAW_OFFSETS = (0.0, -0.35, 0.35, -0.7, 0.7)
SPOT_GAP_M = 0.05  # gap to other objects' bounding circles: room for the next side grasp's fingers
# A region whose support surface lies deeper than this below its top is a bin: the hand cannot
# reach down to its floor (the trash can: floor 0.6 m under the region's top, walls 0.5 m
# high), so the object is dropped in from above. Counters, the coffee slot, the user's spot,
# the sink and the drawer are 0.1-0.2 m deep and get the ordinary set-down.
BIN_DEPTH_M = 0.3
# release heights of the object's bottom above a bin region's top, tried in order: the rim is
# low and 0.4-0.55 m ahead, at the arm's full stretch once the walk stops a few cm short of
# the stand pose, and a higher release is nearer the shoulder
BIN_DROPS_M = (0.02, 0.08, 0.15)
BIN_RIM_MARGIN_M = 0.02  # a dropped object falls this far inside the region's sides (the walls)


@dataclass(frozen=True)
class PlacePlan:
    spot: np.ndarray
    rot: np.ndarray  # hand body rotation
    low: np.ndarray  # hand body position at release
    above: np.ndarray
    q_above: np.ndarray
    support: int  # body the object will stand on
    drop: bool = False  # released above a bin's opening to fall in, not set down on `support`

    def touch(self) -> set[int]:
        """Bodies the held object may touch while lowered: the surface it is set down on; none
        when it is dropped (it stays clear of the bin's rim until released)."""
        return set() if self.drop else {self.support}


def region_of(ctx: SkillContext, target: str) -> tuple[np.ndarray, np.ndarray]:
    t = ctx.object(target)
    region = t.attrs.get("region")
    if not region:
        raise SkillFailure(
            FailureReason.PRECONDITION_FAILED,
            f"'{target}' has no place region to put things in",
            target=target,
        )
    return np.asarray(region["center"], dtype=np.float64), np.asarray(region["half_size"], dtype=np.float64)


def work_point(ctx: SkillContext) -> np.ndarray:
    """Where a set-down object is handiest for the next skill: `WORK_AHEAD_M` straight ahead of the pelvis.

    The spot nearest the hand's shoulder (the order up to session 10) is the counter's front edge
    beside the body: a mug set down there (0.3 m ahead of the pelvis, 0.21 m to the side) was out
    of reach for pouring the instant coffee into it with either hand. Straight ahead, both hands
    reach over it, and it stays clear of the items standing to either side.
    """
    heading = quat_to_mat(ctx.state.base_quat)[:, 0]
    heading[2] = 0.0
    return np.asarray(ctx.state.base_pos) + WORK_AHEAD_M * heading / np.linalg.norm(heading)


def free_spots(
    ctx: SkillContext,
    oid: str,
    center: np.ndarray,
    half: np.ndarray,
    near: np.ndarray,
    drop_in: bool = False,
) -> list[np.ndarray]:
    """Candidate object centres (x, y) inside the region, away from other objects.

    A grid over the region (shrunk by the object's radius), nearest to `near` (`work_point`)
    first, capped at `MAX_SPOTS`: big regions like a counter offer the spots in reach.
    `drop_in` (a bin): spots kept `BIN_RIM_MARGIN_M` off the sides, the nearest first (a bin
    has no middle to aim for), and what already lies inside is no obstacle (it is dropped on).
    """
    r, _ = object_extent(ctx, oid)
    others = []
    for o in ctx.obs.objects:
        if o.id == oid or o.id not in ctx.model.object_body or o.id not in ctx.model.free_objects:
            continue
        if drop_in and in_region(o.pos, center, half):
            continue
        others.append((np.asarray(o.pos[:2]), object_extent(ctx, o.id)[0]))
    shrink = r + (BIN_RIM_MARGIN_M if drop_in else 0.0)
    hx, hy = max(half[0] - shrink, 0.0), max(half[1] - shrink, 0.0)
    xs = center[0] + np.linspace(-hx, hx, max(1, int(2 * hx / SPOT_STEP_M) + 1)) if hx > 0 else center[:1]
    ys = center[1] + np.linspace(-hy, hy, max(1, int(2 * hy / SPOT_STEP_M) + 1)) if hy > 0 else center[1:2]
    grid = [np.array([x, y]) for x in xs for y in ys]
    # a small region's centre first when it is free (a slot is meant to be used in its middle),
    # then by reach; a counter's centre is 0.55 m out, too far to pick the mug up again from
    centre_first = not drop_in and max(half[0], half[1]) <= SMALL_REGION_M
    grid.sort(
        key=lambda p: (centre_first and np.linalg.norm(p - center[:2]) > 1e-9, np.linalg.norm(p - near[:2]))
    )
    free = [p for p in grid if all(np.linalg.norm(p - q) > r + ro + SPOT_GAP_M for q, ro in others)]
    if not drop_in:  # spots that leave the other objects' way from the robot open come first (stable sort)
        robot = np.asarray(ctx.state.base_pos[:2])
        free.sort(key=lambda p: any(blocks(robot, p, r, q, ro) for q, ro in others))
    return free[:MAX_SPOTS]


def blocks(robot: np.ndarray, p: np.ndarray, r: float, q: np.ndarray, ro: float) -> bool:
    """Whether an object of radius `r` at `p` stands in the way from the robot to the object at `q`.

    The kettle and the instant coffee put back in front of the mug (the spots nearest the work
    point) left no side grasp of it: the hand comes from the robot's side.
    """
    way = q - robot
    t = float((p - robot) @ way) / float(way @ way)
    if not 0.0 < t < 1.0:
        return False
    return float(np.linalg.norm(robot + t * way - p)) < r + ro + SPOT_GAP_M


def surface_under(ctx: SkillContext, xy: np.ndarray, top_z: float, held: int) -> tuple[float, int]:
    """Height and body of the first surface below (x, y) from `top_z`, ignoring the robot."""
    m, d = ctx.model.model, ctx.model.data
    geom = np.zeros(1, dtype=np.int32)
    start = np.array([xy[0], xy[1], top_z])
    dist = mujoco.mj_ray(m, d, start, np.array([0.0, 0.0, -1.0]), None, 1, held, geom)
    if dist < 0 or m.geom_bodyid[geom[0]] in ctx.model.robot_bodies:
        return float("nan"), -1
    return float(top_z - dist), int(m.geom_bodyid[geom[0]])


def is_bin_region(ctx: SkillContext, center: np.ndarray, half: np.ndarray, held: int) -> bool:
    """Whether the surface under the region's centre lies deeper than `BIN_DEPTH_M` below its
    top: a bin (the trash can), whose floor no hand reaches; things are dropped into it."""
    top = center[2] + half[2]
    z, support = surface_under(ctx, center[:2], top, held)
    return support >= 0 and top - z > BIN_DEPTH_M


def plan_place(ctx: SkillContext, side: str, oid: str, target: str) -> PlacePlan | None:
    center, half = region_of(ctx, target)
    _, half_h = object_extent(ctx, oid)
    ee = ctx.spec.end_effectors[side]
    ob = ctx.model.object_body[oid]
    ctx.model.set_arm(side, ctx.arm_q(side))
    p_h, r_h = ctx.model.body_pose(ee.hand_body)
    p_o = ctx.model.data.xpos[ob].copy()
    offset = p_h - p_o
    yaw_now = float(np.arctan2(-r_h[1, 2], -r_h[0, 2]))  # fingers point along the hand's -z
    sh = shoulder_pos(ctx, side)
    top = center[2] + half[2]
    is_bin = is_bin_region(ctx, center, half, ob)
    for xy in free_spots(ctx, oid, center, half, work_point(ctx), drop_in=is_bin):
        z, support = surface_under(ctx, xy, top, ob)
        if support < 0:
            continue
        if is_bin:
            # out of the hand's reach below: release just above the region's top and let it fall
            ground = np.array([xy[0], xy[1], top + half_h])
            allowed = frozenset()
        else:
            ground = np.array([xy[0], xy[1], z + half_h])
            allowed = ctx.model.body_pairs({ob}, {support})
        yaw_goal = float(np.arctan2(xy[1] - sh[1], xy[0] - sh[0]))
        for drop, dyaw in itertools.product(BIN_DROPS_M if is_bin else DROPS_M, YAW_OFFSETS):
            goal = ground + [0.0, 0.0, drop]
            rz = rot_z(yaw_goal - yaw_now + dyaw)
            rot = rz @ r_h
            low = goal + rz @ offset
            above = low + [0.0, 0.0, ABOVE_M]
            q_low = ctx.solve(
                side,
                IKTarget(ee.hand_body, low, rot, frame_type="body"),
                "place",
                allowed=allowed,
                clearance=NEAR_CLEARANCE_M,
            )
            if q_low is None:
                continue
            if is_bin:
                # dropped, not set down: the arm goes straight to the release pose (the object is
                # clear of the rim there), no pre-place pose and no lowering line at full stretch
                return PlacePlan(np.asarray(xy), rot, low, low, q_low, support, drop=True)
            q_above = ctx.solve(
                side, IKTarget(ee.hand_body, above, rot, frame_type="body"), "preplace", seeds=[q_low]
            )
            if q_above is None:
                continue
            if (
                ctx.line(
                    side,
                    ee.hand_body,
                    "body",
                    rot,
                    above,
                    low,
                    q_above,
                    allowed=allowed,
                    clearance=NEAR_CLEARANCE_M,
                )
                is None
            ):
                continue
            return PlacePlan(np.asarray(xy), rot, low, above, q_above, support)
    return None


def in_region(pos: np.ndarray, center: np.ndarray, half: np.ndarray) -> bool:
    return bool(np.all(np.abs(np.asarray(pos) - center) <= half + 1e-6))


def run(ctx: SkillContext, subgoal: Subgoal) -> dict:
    oid = subgoal.args.get("obj") or subgoal.args.get("object")
    target = subgoal.args.get("target") or subgoal.args.get("place")
    if not oid or not target:
        raise SkillFailure(
            FailureReason.PRECONDITION_FAILED,
            "place needs args['obj'] and args['target']",
            args=dict(subgoal.args),
        )
    return place_held(ctx, oid, target)


def held_by(ctx: SkillContext, oid: str) -> str:
    o = ctx.object(oid)
    side = o.attrs.get("in_hand")
    if side not in ctx.spec.end_effectors:
        raise SkillFailure(
            FailureReason.PRECONDITION_FAILED,
            f"not holding '{oid}': pick it first",
            object=oid,
            object_pos=list(o.pos),
        )
    return side


def place_held(ctx: SkillContext, oid: str, target: str) -> dict:
    """Set the held `oid` down in `target`'s region (also `hand_over`'s motion, at `user`).

    Fallback (one, bounded): when the holding hand finds no spot but the other hand is free and
    reaches the region, the object is passed to it first (`transfer`) and planned again."""
    side = held_by(ctx, oid)
    center, half = region_of(ctx, target)
    plan = plan_place(ctx, side, oid, target)
    transferred: dict | None = None
    if plan is None:
        _, half_h = object_extent(ctx, oid)
        # where the taking hand's grasp site would be with the object standing at the centre,
        # or, in a bin, held over the opening to be dropped in
        if is_bin_region(ctx, center, half, ctx.model.object_body[oid]):
            bottom = center[2] + half[2] + BIN_DROPS_M[0]
        else:
            bottom = center[2] - half[2] + DROPS_M[0]
        point = np.array([center[0], center[1], bottom + half_h])
        transferred = transfer_if_other_hand_reaches(ctx, oid, side, point)
        if transferred is not None:
            side = transferred["to"]
            plan = plan_place(ctx, side, oid, target)
    if plan is None:
        raise SkillFailure(
            FailureReason.UNREACHABLE,
            f"the {side} hand cannot set '{oid}' down in '{target}' (no free spot it reaches collision-free)"
            + (" after taking it from the other hand" if transferred else ""),
            object=oid,
            target=target,
            hand=side,
            region_center=center.tolist(),
            other_hand=other_hand(ctx, side),
            other_hand_holds=ctx.holding(other_hand(ctx, side)),
            transferred=transferred is not None,
        )
    ee = ctx.spec.end_effectors[side]
    allowed = ctx.model.body_pairs({ctx.model.object_body[oid]}, plan.touch())

    ctx.move_arm(side, plan.q_above, "preplace", opening=0.0)
    if ctx.object(oid).attrs.get("in_hand") != side:
        raise SkillFailure(
            FailureReason.GRASP_LOST,
            f"'{oid}' slipped out of the {side} hand on the way to '{target}'",
            object=oid,
            object_pos=list(ctx.object(oid).pos),
        )
    if plan.drop:
        _over_the_opening(ctx, side, oid, target, plan, center, half)
    else:
        # the base sways while the arm moves: lower from where the hand is now
        ctx.model.set_arm(side, ctx.arm_q(side))
        p_now, _ = ctx.model.body_pose(ee.hand_body)
        path = ctx.line(
            side,
            ee.hand_body,
            "body",
            plan.rot,
            p_now,
            plan.low,
            ctx.arm_q(side),
            allowed=allowed,
            clearance=NEAR_CLEARANCE_M,
        )
        if path is None:
            raise SkillFailure(
                FailureReason.UNREACHABLE,
                f"cannot lower '{oid}' into '{target}' from the pre-place pose",
                object=oid,
                target=target,
            )
        ctx.follow(side, path, "lower", opening=0.0, allowed=allowed, clearance=NEAR_CLEARANCE_M)
    ctx.gripper(side, 1.0, settle_s=0.5)

    # slide back out along the fingers, then the object must stand in the region on its own
    near = ctx.model.body_pairs(ctx.model.hand_bodies[side], {ctx.model.object_body[oid]} | plan.touch())
    retreated = ctx.back_out(side, ee.hand_body, "body", "retreat", allowed=near, rot=plan.rot)
    o = ctx.object(oid)
    pos = np.asarray(o.pos)
    if o.attrs.get("in_hand") or not in_region(pos, center, half):
        raise SkillFailure(
            FailureReason.GRASP_LOST,
            f"'{oid}' is not standing in '{target}' after release (at {np.round(pos, 3).tolist()})",
            object=oid,
            target=target,
            object_pos=pos.tolist(),
            region_center=center.tolist(),
            in_hand=o.attrs.get("in_hand"),
        )
    return {
        "object": oid,
        "target": target,
        "hand": side,
        "object_pos": pos.tolist(),
        "retreated": retreated,
        "dropped": plan.drop,
        "transferred_from": transferred["from"] if transferred else None,
    }


def _over_the_opening(
    ctx: SkillContext, side: str, oid: str, target: str, plan: PlacePlan, center: np.ndarray, half: np.ndarray
) -> None:
    """Before a drop: the body sways as the arm stretches out, so steer the hand back onto the
    release pose (best effort), and refuse to let go unless the object is over the bin's opening."""
    ee = ctx.spec.end_effectors[side]
    target_pose = IKTarget(ee.hand_body, plan.low, plan.rot, frame_type="body")
    ctx.servo(side, target_pose, "drop_servo", opening=0.0, clearance=NEAR_CLEARANCE_M, iters=2, partial=True)
    r, _ = object_extent(ctx, oid)
    pos = np.asarray(ctx.object(oid).pos)
    if np.any(np.abs(pos[:2] - center[:2]) > half[:2] - r):
        raise SkillFailure(
            FailureReason.UNREACHABLE,
            f"cannot hold '{oid}' over the opening of '{target}' to drop it in",
            object=oid,
            target=target,
            object_pos=pos.tolist(),
            region_center=center.tolist(),
        )
