"""Time parameterisation: trapezoids within the limits, 50 Hz samples, exact endpoints."""

from __future__ import annotations

import numpy as np

from motion.trajectory import TimingLimits, max_rates, time_parameterize


def test_respects_velocity_and_acceleration_limits():
    wp = np.array([[0.0, 0.0, 0.0], [1.0, -0.5, 0.2], [1.2, 0.5, 0.2], [0.0, 0.0, 0.0]])
    limits = TimingLimits(velocity=np.array([0.8, 0.5, 1.0]), acceleration=2.0)
    traj = time_parameterize(wp, limits)
    v, a = max_rates(traj)
    assert np.all(v <= limits.velocity * 1.001)
    assert np.all(a <= 2.0 * 1.001)
    assert np.allclose(np.diff(traj.times), 0.02)
    assert np.allclose(traj.q[0], wp[0]) and np.allclose(traj.q[-1], wp[-1])
    for w in wp:  # every waypoint is a sample (the robot stops on it)
        assert np.min(np.abs(traj.q - w).max(axis=1)) < 1e-9


def test_polyline_mode_does_not_stop_at_each_point():
    wp = np.linspace([0.0, 0.0], [0.5, 0.25], 11)
    stop = time_parameterize(wp, TimingLimits(0.3, 1.0))
    smooth = time_parameterize(wp, TimingLimits(0.3, 1.0), stop_at_waypoints=False)
    assert smooth.duration < 0.5 * stop.duration
    v, a = max_rates(smooth)
    assert np.all(v <= 0.3 * 1.001) and np.all(a <= 1.0 * 1.001)
    assert np.allclose(smooth.q[-1], wp[-1])


def test_a_path_that_does_not_move_is_one_sample():
    traj = time_parameterize(np.zeros((3, 7)))
    assert len(traj.times) == 1 and traj.duration == 0.0
