"""Time parameterisation of a joint-space path: trapezoidal velocity profiles, densified at 50 Hz.

Each segment between two waypoints is a straight line in joint space, followed with one
trapezoidal profile shared by all joints (so the robot moves exactly along the segment the
planner checked), stopping at every waypoint. The slowest joint sets the pace: no joint
exceeds its velocity or acceleration limit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TimingLimits:
    """Per-joint (or scalar) velocity (rad/s) and acceleration (rad/s^2) limits."""

    velocity: np.ndarray | float = 0.8
    acceleration: np.ndarray | float = 2.0


DEFAULT_LIMITS = TimingLimits()  # free-space arm moves
SLOW = TimingLimits(velocity=0.3, acceleration=1.0)  # close to objects: approach, grasp, press


@dataclass(frozen=True)
class Trajectory:
    times: np.ndarray  # (m,) seconds from the start, times[0] == 0
    q: np.ndarray  # (m, n) joint positions

    @property
    def duration(self) -> float:
        return float(self.times[-1]) if len(self.times) else 0.0


def _segment_profile(delta: np.ndarray, vmax: np.ndarray, amax: np.ndarray) -> tuple[float, float, float]:
    """(duration, path velocity, path acceleration) of s in [0, 1] along one segment."""
    moving = np.abs(delta) > 1e-12
    if not np.any(moving):
        return 0.0, 0.0, 0.0
    vs = float(np.min(vmax[moving] / np.abs(delta[moving])))
    acc = float(np.min(amax[moving] / np.abs(delta[moving])))
    if vs * vs / acc >= 1.0:  # never reaches cruise speed: triangle
        vs = float(np.sqrt(acc))
        return 2.0 / vs, vs, acc
    return 1.0 / vs + vs / acc, vs, acc


def _s_at(t: np.ndarray, duration: float, vs: float, acc: float) -> np.ndarray:
    t_acc = vs / acc
    s = np.empty_like(t)
    a = t < t_acc
    d = t > duration - t_acc
    c = ~(a | d)
    s[a] = 0.5 * acc * t[a] ** 2
    s[c] = 0.5 * acc * t_acc**2 + vs * (t[c] - t_acc)
    s[d] = 1.0 - 0.5 * acc * (duration - t[d]) ** 2
    return np.clip(s, 0.0, 1.0)


def time_parameterize(
    waypoints: np.ndarray,
    limits: TimingLimits = DEFAULT_LIMITS,
    rate_hz: float = 50.0,
    stop_at_waypoints: bool = True,
) -> Trajectory:
    """Trapezoidal timing through `waypoints` (k, n), sampled at `rate_hz` (first and last included).

    `stop_at_waypoints=False` is for densely sampled paths (Cartesian lines): one profile over
    the whole polyline, paced by its steepest segment, instead of a stop at every point.
    """
    wp = np.atleast_2d(np.asarray(waypoints, dtype=np.float64))
    n = wp.shape[1]
    vmax = np.broadcast_to(np.asarray(limits.velocity, dtype=np.float64), (n,))
    amax = np.broadcast_to(np.asarray(limits.acceleration, dtype=np.float64), (n,))
    if np.any(vmax <= 0) or np.any(amax <= 0):
        raise ValueError(
            f"timing limits must be positive, got velocity={limits.velocity} acceleration={limits.acceleration}"
        )
    dt = 1.0 / rate_hz
    if not stop_at_waypoints and len(wp) > 2:
        return _along_polyline(wp, vmax, amax, dt)
    times, qs = [0.0], [wp[0]]
    t0 = 0.0
    for a, b in zip(wp[:-1], wp[1:], strict=True):
        duration, vs, acc = _segment_profile(b - a, vmax, amax)
        if duration <= 0.0:
            continue
        # whole number of control periods per segment, so every waypoint is a sample
        steps = int(np.ceil(duration / dt - 1e-9))
        stretched = steps * dt
        scale = duration / stretched  # slow the profile down to the stretched duration
        local = np.arange(1, steps + 1) * dt
        s = _s_at(local * scale, duration, vs, acc)
        times += (t0 + local).tolist()
        qs += list(a + s[:, None] * (b - a))
        t0 += stretched
    return Trajectory(np.asarray(times), np.asarray(qs))


def _along_polyline(wp: np.ndarray, vmax: np.ndarray, amax: np.ndarray, dt: float) -> Trajectory:
    """One trapezoid in the polyline parameter u in [0, k-1] (u's integer part picks the segment)."""
    steps = np.abs(np.diff(wp, axis=0)).max(axis=0)  # largest per-segment change of each joint
    k = len(wp) - 1
    # in u units: joint j moves at most steps[j] per unit of u
    delta = steps * k  # as if one segment from 0 to 1 covered every step at the steepest rate
    duration, vs, acc = _segment_profile(delta, vmax, amax)
    if duration <= 0.0:
        return Trajectory(np.zeros(1), wp[:1].copy())
    n_steps = int(np.ceil(duration / dt - 1e-9))
    local = np.arange(0, n_steps + 1) * dt
    s = _s_at(local * (duration / (n_steps * dt)), duration, vs, acc)
    u = s * k
    i = np.minimum(u.astype(int), k - 1)
    f = (u - i)[:, None]
    q = wp[i] + f * (wp[i + 1] - wp[i])
    return Trajectory(local, q)


def max_rates(traj: Trajectory) -> tuple[np.ndarray, np.ndarray]:
    """Largest |velocity| and |acceleration| per joint, by finite differences."""
    if len(traj.times) < 3:
        return np.zeros(traj.q.shape[1]), np.zeros(traj.q.shape[1])
    dt = np.diff(traj.times)[:, None]
    v = np.diff(traj.q, axis=0) / dt
    a = np.diff(v, axis=0) / dt[1:]
    return np.abs(v).max(axis=0), np.abs(a).max(axis=0)
