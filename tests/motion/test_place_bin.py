"""Throwing things away: place drops into a deep bin (the trash can) instead of setting down on
its floor, counters keep the ordinary set-down, and an object resting on the table (a
multi-geom body) has the table as its support, so that its lift may start touching it.

Planning only (IK + OMPL, nothing executed), except the slow apple pick at the table.
"""

from __future__ import annotations

import numpy as np
import pytest
from motion_rig import make_rig

from bridge.sim_world import SimWorld
from control.loop import ControlLoop, HoldController
from humanoid.contracts import Subgoal
from motion.executor import SkillExecutor
from motion.ik import IKTarget
from motion.skills.base import SkillContext, approach_rot, object_extent, rot_z, support_bodies
from motion.skills.place import (
    BIN_DEPTH_M,
    BIN_DROPS_M,
    BIN_RIM_MARGIN_M,
    DROPS_M,
    plan_place,
    region_of,
    surface_under,
)


def ctx_at(world, station: str | None = None) -> SkillContext:
    stand = world.stands[station] if station else (0.0, 0.0, 0.0)
    sim = SimWorld(world, robot_xy_yaw=stand)
    ex = SkillExecutor(world, ControlLoop(world.robot, sim, HoldController(world.robot)))
    ex.observe()
    return ex.ctx


def carry(ctx: SkillContext, oid: str, side: str, local: tuple[float, float, float]) -> None:
    """Pretend `side` holds `oid` as pick leaves it: the grasp site at `local` (base frame x, y;
    world z), fingers forward pitched 0.35 rad down, the object 3 cm below the site."""
    st = ctx.state
    w, x, y, z = st.base_quat
    yaw = float(np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z)))
    pos = np.array([*(st.base_pos[:2] + rot_z(yaw)[:2, :2] @ np.asarray(local[:2])), local[2]])
    site = ctx.spec.end_effectors[side].grasp_site
    q = ctx.solve(side, IKTarget(site, pos, approach_rot(yaw, 0.35)), "test_carry")
    assert q is not None, f"test setup: no carry pose for the {side} hand at {pos}"
    ctx.arm_ref[ctx.cols(side)] = q
    ctx.arm_cmd[ctx.cols(side)] = q
    ctx.model.set_arm(side, q)
    p_site, _ = ctx.model.site_pose(site)
    p_obj = p_site - [0.0, 0.0, 0.03]
    ctx.model.set_object_pose(oid, p_obj, np.array([1.0, 0.0, 0.0, 0.0]))
    ctx.model.attach(oid, side)
    o = ctx.obs.by_id()[oid]
    o.pos = p_obj.tolist()
    o.attrs["in_hand"] = side


def release_bottom(ctx: SkillContext, side: str, oid: str, plan) -> float:
    """Height of the held object's bottom with the hand at the plan's release pose (a turn about
    z keeps the hand-to-object height)."""
    ctx.model.set_arm(side, ctx.arm_q(side))
    hand_z = ctx.model.body_pose(ctx.spec.end_effectors[side].hand_body)[0][2]
    obj_z = ctx.model.data.xpos[ctx.model.object_body[oid]][2]
    return float(plan.low[2] - (hand_z - obj_z) - object_extent(ctx, oid)[1])


@pytest.mark.parametrize(("oid", "side"), [("mug_blue", "left"), ("apple", "right")])
def test_a_bin_gets_a_drop_over_its_opening(kitchen, oid, side):
    ctx = ctx_at(kitchen, "trash_can")
    carry(ctx, oid, side, (0.38, 0.1 if side == "left" else -0.1, 0.88))
    center, half = region_of(ctx, "trash_can")
    top = center[2] + half[2]
    floor_z, _ = surface_under(ctx, center[:2], top, ctx.model.object_body[oid])
    assert top - floor_z > BIN_DEPTH_M  # the floor inside is beyond any set-down

    plan = plan_place(ctx, side, oid, "trash_can")
    assert plan is not None and plan.drop
    assert plan.touch() == set()  # lowered without touching the bin
    r, _ = object_extent(ctx, oid)
    inside = half[:2] - r - BIN_RIM_MARGIN_M + 1e-6
    assert np.all(np.abs(plan.spot - center[:2]) <= inside)  # over the opening, clear of the rim
    bottom = release_bottom(ctx, side, oid, plan)
    # released above the region's top (the rim is 0.1 m lower), not lowered to the floor 0.6 m down
    assert any(abs(bottom - (top + d)) < 1e-3 for d in BIN_DROPS_M)
    assert np.allclose(plan.above, plan.low)  # straight to the release pose: nothing to lower


def test_a_counter_keeps_the_ordinary_set_down(kitchen):
    ctx = ctx_at(kitchen)
    carry(ctx, "mug_blue", "left", (0.38, 0.1, 0.88))
    plan = plan_place(ctx, "left", "mug_blue", "close_counter")
    assert plan is not None and not plan.drop
    counter = ctx.model.model.body("close_counter").id
    assert plan.support == counter and plan.touch() == {counter}
    bottom = release_bottom(ctx, "left", "mug_blue", plan)
    assert any(abs(bottom - (0.72 + d)) < 1e-3 for d in DROPS_M)  # set down on the top (z 0.72)


def test_things_on_the_table_stand_on_the_table(kitchen):
    """The table is a multi-geom body (top and legs): its near contacts must count as well."""
    ctx = ctx_at(kitchen, "table")
    table = ctx.model.model.body("table").id
    for oid in ("apple", "orange", "energy_bar", "kettle_chips"):
        assert table in support_bodies(ctx, oid), oid
    assert support_bodies(ctx, "mug_blue") == {ctx.model.model.body("close_counter").id}


@pytest.mark.slow
def test_pick_the_apple_at_the_table(fresh_kitchen):
    world = fresh_kitchen
    sim, loop = make_rig(world, robot_xy_yaw=world.stands["table"])
    ex = SkillExecutor(world, loop)
    ex.observe()
    z0 = sim.data.body("apple").xpos[2]
    res = ex.run(Subgoal("pick", {"obj": "apple"}))
    assert res.succeeded, f"{res.reason} {res.message} {res.observations}"
    assert ex.observe().by_id()["apple"].attrs.get("in_hand") == res.observations["hand"]
    assert sim.data.body("apple").xpos[2] > z0 + 0.035
