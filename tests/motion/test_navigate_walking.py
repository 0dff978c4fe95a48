"""navigate on the real walking policy: the robot walks across the kitchen and stops where it works.

Only the walk from the room's middle to the coffee corner is tested: the walking policy still
falls on some station-to-station walks, see docs/walking.md. No kinematic stand-in here:
SimWorld physics, the control loop with the frozen standing and walking policies (their
hand-overs included), the OMPL base path and the path tracker.

The standing policy is the manifest's (`stand_v2`), trained for the wide stance the walking
policy stops in; `stand_v1` stepped the robot back 0.2-0.7 m after every walk (docs/walking.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from bridge.sim_world import SimWorld
from control.locomotion import LocomotionController
from control.loop import ControlLoop
from humanoid.contracts import Subgoal
from motion.executor import SkillExecutor
from motion.path_tracker import pose_from_state
from scenarios.world import build_world

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def away_kitchen(spec):
    return build_world("kitchen", spec, start="robot_start_away")


def _executor(world, xy_yaw):
    sim = SimWorld(world, robot_xy_yaw=xy_yaw)
    loop = ControlLoop(world.robot, sim, LocomotionController(world.robot))
    return SkillExecutor(world, loop), loop


def test_walks_from_the_middle_of_the_room_to_the_coffee_corner(away_kitchen):
    ex, loop = _executor(away_kitchen, away_kitchen.start)
    res = ex.run(Subgoal("navigate", {"place": "close_counter"}))
    assert res.succeeded, f"{res.reason}: {res.message}"
    obs = res.observations
    assert obs["moved"] and obs["arrival_error_m"] <= 0.10 and obs["arrival_yaw_error_rad"] <= 0.15
    pose = pose_from_state(loop.state.base_pos, loop.state.base_quat)
    assert np.linalg.norm(pose[:2] - np.array(away_kitchen.start[:2])) > 2.0  # it did cross the room
    np.testing.assert_allclose(pose[:2], away_kitchen.stands["close_counter"][:2], atol=0.12)
    assert loop.legs.mode == "stand"  # handed back to the standing policy for the arm work
    assert loop.state.base_pos[2] > 0.65 and not loop.fallen
