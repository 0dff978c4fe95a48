"""The motion layer's world copy: synced from observations, one arm moving, held objects carried."""

from __future__ import annotations

import numpy as np
import pytest

from bridge.sim_world import SimWorld
from motion.collision_model import CollisionModel


@pytest.fixture
def synced(kitchen):
    sim = SimWorld(kitchen)
    model = CollisionModel(kitchen)
    model.sync(sim.state(), sim.observe())
    return sim, model


def test_standing_robot_is_collision_free_and_model_is_private(synced, kitchen):
    sim, model = synced
    assert model.collisions("left") == [] and model.collisions("right") == []
    assert model.model is not kitchen.model  # margins are set on a copy only
    assert np.allclose(model.data.body("mug_red").xpos, sim.data.body("mug_red").xpos)


def test_arm_into_the_counter_is_reported_by_name(synced, arm_pose_for):
    _, model = synced
    q = arm_pose_for("right", (0.40, -0.25, 0.70))  # grasp site 2 cm inside the counter top
    model.set_arm("right", q)
    hits = model.collisions("right")
    assert any("close_counter" in (h.body1, h.body2) for h in hits)
    assert not model.arm_state_valid("right", q)


def test_held_object_moves_with_the_hand_and_may_touch_its_fingers(synced, arm_pose_for):
    _, model = synced
    q = arm_pose_for("right", (0.35, -0.30, 0.95))
    model.set_arm("right", q)
    grasp, _ = model.site_pose("right_grasp")
    model.set_object_pose("mug_red", grasp)
    model.attach("mug_red", "right")
    assert model.collisions("right") == []  # the mug overlaps the fingers: allowed while held
    q2 = arm_pose_for("right", (0.30, -0.35, 1.00))
    model.set_arm("right", q2)
    grasp2, _ = model.site_pose("right_grasp")
    assert np.allclose(model.data.body("mug_red").xpos, grasp2, atol=1e-6)


def test_gravity_offset_points_against_gravity(synced, arm_pose_for):
    _, model = synced
    q = arm_pose_for("right", (0.40, -0.25, 0.95))
    off = model.gravity_offset("right", q[None, :])[0]
    # an arm held out in front: the shoulder must be asked to lift more (pitch more negative)
    assert off[0] < -0.005 and np.all(np.abs(off) < 0.2)
