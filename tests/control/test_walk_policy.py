"""The shipped walking policy in the simulator the product runs (SimWorld, Python PD), through the
deployed controller: it walks where it is told, turns, stops and hands back to standing.

The thresholds are well below what `benchmarks/walking.py` measures (docs/performance.md), so
the test fails on a broken policy or hand-over, not on a slightly different machine.
"""

from __future__ import annotations

import numpy as np
import pytest

from bridge.messages import MotionRequest
from bridge.sim_world import SimWorld
from control.locomotion import LocomotionController
from control.loop import ControlLoop
from scenarios.world import build_world

pytestmark = pytest.mark.slow


def _yaw(q) -> float:
    w, x, y, z = q
    return float(np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z)))


@pytest.fixture(scope="module")
def walked(spec):
    """One walk on the open floor: stand, forward, stand, turn left, stand, backwards, stand.

    Each stand is 4 s: the standing policy takes over once the robot is at rest, at the latest
    `control.locomotion.SETTLE_MAX_S` (3 s) after the stepping has ramped out."""
    loop = ControlLoop(spec, SimWorld(build_world("open_floor", spec)), LocomotionController(spec))
    segments = [(0, 0, 0, 1.0), (0.35, 0, 0, 5.0), (0, 0, 0, 4.0), (0, 0, 0.5, 4.0), (0, 0, 0, 4.0), (-0.2, 0, 0, 3.0), (0, 0, 0, 4.0)]
    out = []
    for k, (vx, vy, wz, seconds) in enumerate(segments):
        before = loop.state
        res = loop.execute(
            MotionRequest(seq=k + 1, times=np.zeros(0), arm_q=np.zeros((0, 14)), gripper=np.zeros((0, 2)),
                          settle_s=seconds, base_velocity=np.array([vx, vy, wz], dtype=float))
        )
        d = res.state.base_pos - before.base_pos
        yaw0 = _yaw(before.base_quat)
        forward = np.cos(yaw0) * d[0] + np.sin(yaw0) * d[1]
        turned = (_yaw(res.state.base_quat) - yaw0 + np.pi) % (2 * np.pi) - np.pi
        out.append({"status": res.status, "forward_m": forward, "turned_rad": turned, "mode": loop.legs.mode})
    return out


def test_walks_the_whole_sequence_without_falling(walked):
    assert [s["status"] for s in walked] == ["ok"] * len(walked)


def test_walks_forward_and_backward_when_told(walked):
    assert walked[1]["forward_m"] > 0.5  # 0.35 m/s for 5 s, ramp-in included
    assert walked[5]["forward_m"] < -0.15  # -0.2 m/s for 3 s


def test_turns_on_the_spot_when_told(walked):
    assert walked[3]["turned_rad"] > 0.6  # 0.5 rad/s for 4 s
    assert abs(walked[3]["forward_m"]) < 0.3


def test_stands_still_at_zero_command_on_the_standing_policy(walked):
    for s in (walked[0], walked[2], walked[4], walked[6]):
        assert abs(s["forward_m"]) < 0.15 and abs(s["turned_rad"]) < 0.2
        assert s["mode"] == "stand"
