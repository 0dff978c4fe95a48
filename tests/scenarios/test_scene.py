"""The kitchen as a room: stand poses, start sites and the layout switch (scenarios/world.py)."""

from __future__ import annotations

import math

import mujoco
import pytest

from scenarios.world import WALKING_READY, SceneError, build_world, scene_spec, stand_poses, start_pose


def test_every_place_has_a_stand_pose_in_both_layouts():
    for ready in (False, True):
        model = scene_spec("kitchen", walking_ready=ready).compile()
        places = {model.site(i).name[6:] for i in range(model.nsite) if model.site(i).name.startswith("place_")}
        assert places <= set(stand_poses("kitchen", walking_ready=ready)), ready


def test_the_coffee_corner_is_where_the_arm_skills_were_tuned():
    # the corner's start and stand pose: the origin facing +x, as since day one; with walking
    # promoted the robot starts away from it, in the room's middle
    assert start_pose("kitchen", "robot_start") == (0.0, 0.0, 0.0)
    assert stand_poses("kitchen")["close_counter"] == (0.0, 0.0, 0.0)
    away = start_pose("kitchen", "robot_start_away")
    assert math.hypot(away[0], away[1]) > 2.0
    assert start_pose("kitchen") == (away if WALKING_READY else (0.0, 0.0, 0.0))


def test_the_user_is_served_at_their_own_station_once_walking_is_ready():
    room, corner = scene_spec("kitchen", walking_ready=True).compile(), scene_spec("kitchen", walking_ready=False).compile()
    d_room, d_corner = mujoco.MjData(room), mujoco.MjData(corner)
    mujoco.mj_kinematics(room, d_room)
    mujoco.mj_kinematics(corner, d_corner)
    assert d_corner.site("place_user").xpos == pytest.approx([0.36, -0.03, 0.82])
    x, y, yaw = stand_poses("kitchen", walking_ready=True)["user"]
    # the same offset from its stand pose as the corner spot has from the coffee corner
    f, lat = 0.36, -0.03
    want = [x + f * math.cos(yaw) - lat * math.sin(yaw), y + f * math.sin(yaw) + lat * math.cos(yaw), 0.82]
    assert d_room.site("place_user").xpos == pytest.approx(want, abs=1e-6)


def test_a_world_starts_where_asked(spec):
    world = build_world("kitchen", spec, start="robot_start_away")
    data = world.initial_data()
    assert data.qpos[world.root_qpos_adr : world.root_qpos_adr + 2] == pytest.approx(world.start[:2])
    with pytest.raises(SceneError, match="no start site 'nope'"):
        build_world("kitchen", spec, start="nope")
