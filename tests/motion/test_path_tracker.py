"""The path tracker in closed loop against a kinematic base (a unicycle that also takes a
sideways velocity, as the walking policy does), with and without a lag in following."""

from __future__ import annotations

import numpy as np
import pytest

from motion.path_tracker import (
    ARRIVAL_POS_M,
    ARRIVAL_YAW_RAD,
    CRUISE_MPS,
    DOCK_BACK_MPS,
    DOCK_FWD_MPS,
    FINAL_POS_M,
    MIN_SPEED_MPS,
    MIN_TURN_RADPS,
    STOP_AIM_AHEAD_M,
    WALK_COMMAND_LIMITS,
    PathTracker,
    arrival_error,
    clip_command,
    pose_from_state,
)


def integrate(
    tracker: PathTracker, pose: np.ndarray, lag: float = 0.0, dt: float = 0.1, t_max: float = 120.0
):
    """Follow the tracker's commands with a kinematic base; `lag` in [0, 1) is how much of the
    previous velocity survives each step (the policy does not follow a command at once)."""
    pose, v, t, log = pose.astype(float).copy(), np.zeros(3), 0.0, []
    while t < t_max:
        cmd = tracker.step(pose)
        log.append((pose.copy(), cmd))
        if cmd.phase == "arrived":
            return pose, t, log
        lo, hi = np.array(WALK_COMMAND_LIMITS).T
        assert np.all(cmd.velocity >= lo - 1e-12) and np.all(cmd.velocity <= hi + 1e-12)
        v = lag * v + (1.0 - lag) * cmd.velocity
        for _ in range(10):
            c, s = np.cos(pose[2]), np.sin(pose[2])
            pose += np.array([c * v[0] - s * v[1], s * v[0] + c * v[1], v[2]]) * dt / 10
        t += dt
    raise AssertionError(f"no arrival in {t_max} s; last phase {log[-1][1].phase}, pose {pose}")


def l_path() -> np.ndarray:
    """Back out 0.3 m facing +x, then 2 m along -x, a 90 deg bend, 1.5 m along +y, then dock
    0.3 m facing +y: like a walk from one counter to another."""
    back = np.column_stack([np.linspace(0.0, -0.3, 7), np.zeros(7), np.zeros(7)])
    leg1 = np.column_stack([np.linspace(-0.3, -2.3, 41), np.zeros(41), np.full(41, np.pi)])
    leg2 = np.column_stack([np.full(31, -2.3), np.linspace(0.0, 1.5, 31), np.full(31, np.pi / 2)])
    dock = np.column_stack([np.full(7, -2.3), np.linspace(1.5, 1.8, 7), np.full(7, np.pi / 2)])
    return np.concatenate([back, leg1[1:], leg2[1:], dock[1:]])


def test_a_redock_aims_past_the_goal_by_the_offset_it_is_given():
    """`navigate` re-docks with the summed shortfall of its stops as `aim_offset`: docking then
    steers onto goal + offset, so a stop that rocks the robot back ends on the goal."""
    path = np.array([[0.0, 0.0, 0.0], [0.25, 0.0, 0.0]])
    plain, _, _ = integrate(PathTracker(path), np.array([0.0, 0.0, 0.0]))
    shifted, _, _ = integrate(PathTracker(path, aim_offset=np.array([0.1, 0.0])), np.array([0.0, 0.0, 0.0]))
    assert abs(plain[0] - (0.25 + STOP_AIM_AHEAD_M)) <= FINAL_POS_M + 0.01
    assert abs(shifted[0] - (0.35 + STOP_AIM_AHEAD_M)) <= FINAL_POS_M + 0.01
    assert shifted[0] > plain[0] + 0.05


@pytest.mark.parametrize("lag", [0.0, 0.5])
def test_converges_within_tolerance(lag):
    path = l_path()
    pose, t, log = integrate(PathTracker(path), np.array([0.0, 0.0, 0.0]), lag=lag)
    pos, yaw = arrival_error(pose, path[-1])
    assert pos <= ARRIVAL_POS_M and yaw <= ARRIVAL_YAW_RAD
    assert max(c.cross_track_m for _, c in log) < 0.12  # the bend is cut, by less than the margin
    assert t < 40.0  # ~4.4 m at <= 0.35 m/s plus two turns


def test_backs_out_without_turning_and_turns_in_place_at_a_junction():
    path = l_path()
    _, _, log = integrate(PathTracker(path), np.array([0.0, 0.0, 0.0]))
    first = log[0][1]
    assert first.phase == "walk" and first.velocity[0] < 0 and abs(first.velocity[2]) < 1e-9
    turns = [c for _, c in log if c.phase == "turn"]
    assert turns and all(np.allclose(c.velocity[:2], 0.0) for c in turns)


def test_backs_out_straight_even_when_pushed_sideways():
    """A robot that sways 12 cm sideways while backing out of a station keeps its heading and
    backs on (steering by a bearing that close turned walk_v2 back and forth at the counter)."""
    path = l_path()
    tracker = PathTracker(path)
    for y in (0.0, -0.06, -0.12, 0.12):
        cmd = tracker.step(np.array([-0.1, y, 0.0]))
        assert cmd.phase == "walk" and cmd.velocity[0] < 0.0 and abs(cmd.velocity[2]) < 1e-9
    cmd = tracker.step(np.array([-0.29, 0.1, 0.0]))  # level with the end of the backing segment
    assert cmd.phase == "turn" and cmd.progress_m >= 0.3 - 1e-9


def test_a_turn_near_half_a_circle_keeps_its_direction_as_the_robot_sways():
    """A path leaving backwards needs a ~180 deg turn; the wrapped heading error flips sign as
    the robot sways about +-pi, and reversing the turn each time rocked walk_v1 until it fell."""
    path = np.column_stack([np.linspace(0.0, -2.0, 41), np.zeros(41), np.full(41, np.pi)])
    tracker = PathTracker(path)
    first = tracker.step(np.array([0.0, 0.0, 0.05]))  # error pi - 0.05: turn left
    assert first.phase == "turn" and first.velocity[2] > 0
    for sway in (-0.05, 0.08, -0.1, 0.3):  # now just past pi the other way: keep turning left
        cmd = tracker.step(np.array([0.0, 0.0, sway]))
        assert cmd.phase == "turn" and cmd.velocity[2] > 0
    # most of the way round, it stays a left turn and ends on the path's heading
    cmd = tracker.step(np.array([0.0, 0.0, np.pi - 0.4]))
    assert cmd.velocity[2] > 0
    assert tracker.step(np.array([0.0, 0.0, np.pi - 0.1])).phase == "walk"


def test_final_turn_to_the_goal_heading():
    path = np.array([[0.0, 0.0, 0.0], [0.5, 0.0, 0.0], [0.5, 0.0, 1.2]])  # walk, then face left
    pose, _, log = integrate(PathTracker(path), np.array([0.0, 0.0, 0.0]))
    assert any(c.phase == "final_turn" for _, c in log)
    assert arrival_error(pose, path[-1])[1] <= ARRIVAL_YAW_RAD


def test_slows_down_near_the_goal_and_docks_slowly():
    path = np.column_stack([np.linspace(0, 2, 41), np.zeros(41), np.zeros(41)])
    _, _, log = integrate(PathTracker(path), np.array([0.0, 0.0, 0.0]))
    cruise = max(c.velocity[0] for _, c in log)
    slowing = [c.velocity[0] for p, c in log if c.phase == "walk" and 2.0 - p[0] < 0.4]
    docking = [c.velocity[0] for _, c in log if c.phase == "dock" and c.velocity[0] != 0.0]
    assert cruise == pytest.approx(CRUISE_MPS) and MIN_SPEED_MPS < cruise
    assert slowing and min(slowing) >= MIN_SPEED_MPS - 1e-9 and min(slowing) < cruise
    assert docking and all(v == pytest.approx(DOCK_FWD_MPS) for v in docking) and DOCK_FWD_MPS <= MIN_SPEED_MPS


def test_docking_aims_ahead_of_the_goal_by_the_stop_step_back():
    """The stop steps the robot back a few cm, so the tracker stops it that far ahead of the goal
    (along the goal's heading): here the goal faces +y, so the stop is beyond it in y."""
    path = np.column_stack([np.zeros(21), np.linspace(0, 1, 21), np.full(21, np.pi / 2)])
    pose, _, _ = integrate(PathTracker(path), np.array([0.0, 0.0, np.pi / 2]))
    # docking ends within FINAL_POS_M of the aim point (coming from behind: that far short of it)
    assert abs(pose[1] - (1.0 + STOP_AIM_AHEAD_M)) <= FINAL_POS_M + 0.01
    assert arrival_error(pose, path[-1])[0] <= ARRIVAL_POS_M


@pytest.mark.parametrize("lag", [0.0, 0.5])
def test_never_asks_for_less_than_the_walking_policy_acts_on(lag):
    """The policies step in place for small commands (their dead zone): while walking the speed
    stays at or above MIN_SPEED_MPS, a turn in place at or above MIN_TURN_RADPS until the robot
    is almost on heading, and no command goes sideways (docking has its own slow speeds)."""
    _, _, log = integrate(PathTracker(l_path()), np.array([0.0, 0.0, 0.0]), lag=lag)
    walks = [c for _, c in log if c.phase == "walk" and c.velocity[0] != 0.0]
    assert walks and all(abs(c.velocity[0]) >= MIN_SPEED_MPS - 1e-9 for c in walks)
    assert all(c.velocity[1] == 0.0 for c in walks if c.phase == "walk")
    turns = [c for _, c in log if c.phase in ("turn", "final_turn") and abs(c.heading_error_rad) > 0.02]
    assert turns and all(abs(c.velocity[2]) >= MIN_TURN_RADPS - 1e-9 for c in turns)


def test_steers_back_onto_the_path_when_beside_it():
    """Started 8 cm to the left of a straight path, the robot walks on, turning right towards it."""
    path = np.column_stack([np.linspace(0, 2, 41), np.zeros(41), np.zeros(41)])
    cmd = PathTracker(path).step(np.array([0.0, 0.08, 0.0]))
    assert cmd.phase == "walk" and cmd.velocity[0] > 0 and cmd.velocity[2] < 0


def test_clip_keeps_the_direction_of_travel():
    v = clip_command(np.array([1.2, 0.3, -2.0]))
    assert v[0] == pytest.approx(0.6) and v[1] == pytest.approx(0.15) and v[2] == pytest.approx(-0.8)
    v = clip_command(np.array([-0.6, -0.9, 0.1]))
    assert v[1] == pytest.approx(-0.3) and v[0] == pytest.approx(-0.2) and v[2] == pytest.approx(0.1)
    assert np.allclose(clip_command(np.array([0.2, -0.1, 0.3])), [0.2, -0.1, 0.3])


def test_pose_from_state_reads_yaw():
    yaw = 2.5
    q = np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])
    assert np.allclose(pose_from_state(np.array([1.0, -2.0, 0.74]), q), [1.0, -2.0, yaw])


def test_a_bad_path_is_a_clear_error():
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        PathTracker(np.zeros((4, 2)))


def test_docks_sideways_onto_a_goal_beside_it():
    """Ending 7 cm to the right of the aim point, facing the goal's heading, the robot steps left
    without turning towards the goal (which would make it circle it)."""
    path = np.column_stack([np.linspace(0, 1, 21), np.zeros(21), np.zeros(21)])
    tracker = PathTracker(path)
    cmd = tracker.step(np.array([1.0 + STOP_AIM_AHEAD_M - 0.01, -0.07, 0.0]))
    assert cmd.phase == "dock" and cmd.velocity[1] > 0 and abs(cmd.velocity[0]) < 1e-9
    assert abs(cmd.velocity[2]) < 1e-9


def test_docking_onto_a_goal_behind_steps_back_at_the_backward_speed():
    """The walking policy's slow forward and backward speeds differ (walk_v6: nothing for 0.1 m/s
    forward, 0.11 for 0.1 back), so a goal just behind the robot is docked at `DOCK_BACK_MPS`."""
    path = np.column_stack([np.linspace(0.25, 0.0, 6), np.zeros(6), np.zeros(6)])
    pose, _, log = integrate(PathTracker(path), np.array([0.25, 0.0, 0.0]))
    backing = [c.velocity[0] for _, c in log if c.phase == "dock" and c.velocity[0] != 0.0]
    assert backing and all(v == pytest.approx(-DOCK_BACK_MPS) for v in backing)
    assert arrival_error(pose, path[-1])[0] <= ARRIVAL_POS_M
