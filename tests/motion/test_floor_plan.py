"""The floor plan: footprints in the body band, the exact distance transform, the inflation."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from motion.floor_plan import INFLATION_M, build_floor_plan, distance_transform

SCENE = """
<mujoco>
  <worldbody>
    <geom name="floor" type="plane" size="3 2 0.1"/>
    <geom name="counter" type="box" pos="1.0 0 0.4" size="0.3 0.6 0.4"/>
    <geom name="diamond" type="box" pos="-1.0 0 0.4" size="0.2 0.2 0.4" euler="0 0 45"/>
    <geom name="pillar" type="cylinder" pos="0 1.2 0.5" size="0.1 0.5"/>
    <geom name="lamp" type="box" pos="0 -1.2 1.8" size="0.2 0.2 0.05"/>
    <geom name="ghost" type="box" pos="0 -0.8 0.4" size="0.2 0.2 0.4" contype="0" conaffinity="0"/>
    <body name="cup" pos="0.5 -0.5 0.05"><freejoint/><geom type="cylinder" size="0.04 0.05"/></body>
    <body name="crate" pos="-1.5 1.2 0.3"><freejoint/><geom name="crate" type="box" size="0.3 0.3 0.3"/></body>
  </worldbody>
</mujoco>
"""


@pytest.fixture(scope="module")
def plan():
    m = mujoco.MjModel.from_xml_string(SCENE)
    d = mujoco.MjData(m)
    mujoco.mj_kinematics(m, d)
    return build_floor_plan(m, d)


def brute_force_edt(occ: np.ndarray) -> np.ndarray:
    ii, jj = np.nonzero(occ)
    gi, gj = np.mgrid[0 : occ.shape[0], 0 : occ.shape[1]]
    d = np.sqrt((gi[..., None] - ii) ** 2 + (gj[..., None] - jj) ** 2)
    return d.min(axis=-1)


def test_distance_transform_is_exact():
    rng = np.random.default_rng(3)
    occ = rng.random((23, 31)) < 0.04
    occ[5, 7] = True
    assert np.allclose(distance_transform(occ), brute_force_edt(occ))


def test_distance_transform_matches_scipy_where_installed():
    ndimage = pytest.importorskip("scipy.ndimage")
    occ = np.zeros((60, 45), dtype=bool)
    occ[10:14, 5:30] = True
    occ[40, 40] = True
    assert np.allclose(distance_transform(occ), ndimage.distance_transform_edt(~occ))


def test_obstacles_in_the_body_band_only(plan):
    names = {o.name for o in plan.obstacles}
    assert {"counter", "diamond", "pillar", "crate"} <= names
    assert "lamp" not in names  # 1.75 m up: above the robot's head
    assert "ghost" not in names  # not collidable
    assert "floor" not in names
    assert not any("cup" in n for n in names)  # a small free item is not an obstacle


def test_footprints_follow_orientation(plan):
    # the 45 deg box reaches 0.28 m along x from its centre, but only 0.2 m along the diagonal
    assert plan.occupied[plan.index(np.array([-1.0 + 0.26, 0.0]))]
    assert not plan.occupied[plan.index(np.array([-1.0 + 0.17, 0.17]))]
    name, dist = plan.nearest_obstacle(np.array([-1.0 + 0.4, 0.0]))
    assert name == "diamond" and dist == pytest.approx(0.4 - 0.2 * np.sqrt(2), abs=1e-6)
    # the round pillar: inside at r = 0.09, outside at r = 0.12 in every direction
    for a in np.linspace(0, 2 * np.pi, 8, endpoint=False):
        u = np.array([np.cos(a), np.sin(a)])
        assert plan.occupied[plan.index(np.array([0, 1.2]) + 0.09 * u)]
        assert not plan.occupied[plan.index(np.array([0, 1.2]) + 0.13 * u)]


def test_clearance_and_inflation(plan):
    # 0.5 m in front of the counter's face: free for the robot; 0.2 m: inside the margin
    assert plan.clearance_at(np.array([0.2, 0.0])) == pytest.approx(0.5, abs=plan.cell)
    assert plan.free(np.array([0.2, 0.0]))
    assert not plan.free(np.array([0.5, 0.0])) and plan.clearance_at(np.array([0.5, 0.0])) < INFLATION_M
    assert not plan.free(np.array([5.0, 0.0]))  # off the floor (the plane is 3 x 2 half size)
    x0, x1, y0, y1 = plan.bounds
    assert x0 >= -3.0 - 1e-9 and x1 <= 3.0 + 1e-9 and y0 >= -2.0 - 1e-9 and y1 <= 2.0 + 1e-9


def test_to_dict_carries_the_grid(plan):
    d = plan.to_dict()
    runs, value, cells = d["occupied_rle"], False, []
    for n in runs:
        cells += [value] * n
        value = not value
    assert np.array_equal(np.array(cells).reshape(d["shape"]), plan.occupied)
    assert d["inflation_m"] == INFLATION_M and any(o["name"] == "counter" for o in d["obstacles"])


def test_kitchen_floor_plan_leaves_out_the_robot(kitchen):
    m = kitchen.model
    data = kitchen.initial_data()
    root = m.body(kitchen.robot.root_body).id
    plan = build_floor_plan(m, data, {root}, extra_points=[data.xpos[root][:2]])
    names = {o.name for o in plan.obstacles}
    assert "close_counter" in names and not {"mug_red", "mug_blue", "kettle"} & names
    assert not plan.occupied[plan.index(data.xpos[root][:2])]
    # the robot works at the close counter 0.25 m from its edge: inside the walking margin
    name, dist = plan.nearest_obstacle(data.xpos[root][:2])
    assert name == "close_counter" and dist == pytest.approx(0.25, abs=0.01)
