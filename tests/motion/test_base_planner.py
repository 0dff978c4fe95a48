"""The base planner: typed failures with the obstacle's name, paths that keep the inflated
robot off every obstacle, escaping a counter, docking into one, determinism."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from humanoid.contracts import FailureReason
from motion.base_planner import DOCK_CLEARANCE_M, TURN_ROOM_M, BasePlanner
from motion.floor_plan import INFLATION_M, build_floor_plan

# A 6 x 4 m room; a partition from the south wall forces a detour; a counter on the east wall.
ROOM = """
<mujoco>
  <worldbody>
    <geom name="floor" type="plane" size="4 3 0.1"/>
    <geom name="wall_n" type="box" pos="0 2.05 1" size="3.1 0.05 1"/>
    <geom name="wall_s" type="box" pos="0 -2.05 1" size="3.1 0.05 1"/>
    <geom name="wall_e" type="box" pos="3.05 0 1" size="0.05 2.1 1"/>
    <geom name="wall_w" type="box" pos="-3.05 0 1" size="0.05 2.1 1"/>
    <geom name="partition" type="box" pos="0 -0.6 1" size="0.05 {half} 1"/>
    <geom name="counter" type="box" pos="2.7 0 0.36" size="0.3 0.6 0.36"/>
  </worldbody>
</mujoco>
"""


def room(partition_half: float = 1.45):
    m = mujoco.MjModel.from_xml_string(ROOM.format(half=partition_half))
    d = mujoco.MjData(m)
    mujoco.mj_kinematics(m, d)
    return build_floor_plan(m, d)


@pytest.fixture(scope="module")
def floor():
    return room()


# the robot at the counter, 0.25 m from it and facing it, as after working there
AT_COUNTER = np.array([2.15, 0.0, 0.0])
WEST = np.array([-2.0, -1.0, np.pi / 2])


def test_goal_inside_a_counter_is_unreachable_with_its_name(floor):
    plan = BasePlanner(floor).plan(WEST, np.array([2.6, 0.1, 0.0]), "stand_counter")
    assert plan.reason == FailureReason.UNREACHABLE and plan.points is None
    assert "stand_counter" in plan.detail and "'counter'" in plan.detail and "inflated" in plan.detail


def test_goal_off_the_floor_is_unreachable(floor):
    plan = BasePlanner(floor).plan(WEST, np.array([9.0, 0.0, 0.0]), "far_away")
    assert plan.reason == FailureReason.UNREACHABLE and "outside the floor" in plan.detail


def test_walled_off_goal_is_no_collision_free_path():
    sealed = room(partition_half=2.0)  # the partition now reaches both walls
    plan = BasePlanner(sealed, time_limit_s=0.2).plan(WEST, AT_COUNTER, "stand_counter")
    assert plan.reason == FailureReason.NO_COLLISION_FREE_PATH and plan.points is None
    assert plan.planning_time_s < 2.0  # a hard limit: the time limit, once more doubled, and checks


def test_path_keeps_the_inflated_robot_off_every_obstacle(floor):
    plan = BasePlanner(floor).plan(WEST, AT_COUNTER, "stand_counter")
    assert plan.ok and plan.status == "exact_solution", plan.detail
    pts = plan.points
    assert np.allclose(pts[0, :2], WEST[:2]) and np.allclose(pts[-1], AT_COUNTER)  # the goal's heading too
    assert np.linalg.norm(np.diff(pts[:, :2], axis=0), axis=1).max() <= 0.051
    # around the partition, not through it
    assert pts[:, 1].max() > 0.85
    for p in pts:
        clearance = min(o.distance(p[:2]) for o in floor.obstacles)
        near_ends = min(np.linalg.norm(p[:2] - WEST[:2]), np.linalg.norm(p[:2] - AT_COUNTER[:2]))
        if near_ends > plan.dock_m + 0.01:
            # transit: the inflated robot stays off (grid cells are 2.5 cm: allow one)
            assert clearance >= INFLATION_M - floor.cell, p
        assert clearance >= DOCK_CLEARANCE_M - 1e-6, p
        assert not floor.occupied[floor.index(p[:2])]
    # headings along the path in the transit
    mid = pts[len(pts) // 2]
    k = len(pts) // 2
    step = pts[k + 1, :2] - pts[k - 1, :2]
    assert abs(np.angle(np.exp(1j * (mid[2] - np.arctan2(step[1], step[0]))))) < 0.3
    assert plan.length_m >= plan.straight_m


def test_start_at_the_counter_backs_out_straight(floor):
    plan = BasePlanner(floor).plan(AT_COUNTER, WEST, "west")
    assert plan.ok, plan.detail
    assert plan.escape_m >= INFLATION_M - 0.25 - 1e-9  # out of the margin
    esc = plan.points[: int(round(plan.escape_m / 0.05))]
    assert np.allclose(esc[:, 2], 0.0)  # keeps facing the counter: walks backwards
    assert np.allclose(esc[:, 1], 0.0) and np.all(np.diff(esc[:, 0]) < 0)


def test_the_robot_turns_only_where_it_has_room_to(floor):
    """Escape and docking segments end where the clearance has room for a turn in place
    (a walking policy's turn wanders); a free start that lacks it backs out too."""
    for start, goal in ((AT_COUNTER, WEST), (WEST, AT_COUNTER)):
        plan = BasePlanner(floor).plan(start, goal, "q")
        assert plan.ok, plan.detail
        for p in (plan.waypoints[0], plan.waypoints[-1]):  # the transit's ends: where the robot turns
            assert floor.clearance_at(p[:2]) >= INFLATION_M + TURN_ROOM_M - 1e-9
    near = np.array([2.4 - INFLATION_M - TURN_ROOM_M / 2, 0.0, 0.0])  # free, but tight to turn (counter edge x = 2.4)
    assert floor.free(near[:2]) and floor.clearance_at(near[:2]) < INFLATION_M + TURN_ROOM_M
    plan = BasePlanner(floor).plan(near, WEST, "west")
    assert plan.ok and plan.escape_m > 0.0 and np.allclose(plan.points[:3, 2], 0.0)


def test_docking_walks_forward_into_the_stand_pose(floor):
    plan = BasePlanner(floor).plan(WEST, AT_COUNTER, "stand_counter")
    n = int(round(plan.dock_m / 0.05))
    dock = plan.points[-n:]
    assert plan.dock_m > 0 and np.allclose(dock[:, 2], 0.0) and np.all(np.diff(dock[:, 0]) > 0)


def test_same_query_same_path(floor):
    a = BasePlanner(floor).plan(WEST, AT_COUNTER, "g")
    BasePlanner(floor).plan(AT_COUNTER, np.array([-2.0, 1.5, 0.0]), "other")  # something in between
    b = BasePlanner(floor).plan(WEST, AT_COUNTER, "g")
    assert np.array_equal(a.points, b.points)


def test_straight_line_when_nothing_is_in_the_way(floor):
    plan = BasePlanner(floor).plan(np.array([-2.0, 1.0, 0.0]), np.array([-1.0, 1.2, 0.5]), "near")
    assert plan.status == "straight_line" and plan.length_m == pytest.approx(plan.straight_m, abs=1e-6)
