"""Follow a planned base path: the current pelvis pose in, a walking command (vx, vy, wz) out.

The law is a unicycle's pure pursuit: the robot faces the path point `LOOKAHEAD_M` ahead of
the nearest one (which irons out the path's 5 cm steps and pulls it back onto the path) with a
proportional turn rate, and walks straight forward, or straight back on a segment the path
backs along (its yaw against its direction of travel: leaving a station). No sideways command:
the walking policies are trained on vy but follow it poorly, and forward, back and turning are
all a path needs. Where the heading error is large (a junction between a backing-out segment
and the transit, or a sharp bend) the robot turns in place first; near the goal it slows
down; over the last `DOCK_M` it faces the goal's heading and steps onto the goal (forward, back
or sideways); at the goal it turns in place to the goal heading.

Commands are clipped to `WALK_COMMAND_LIMITS`, the ranges the walking policy was trained on,
taken from `control.gait.COMMAND_LOW` / `COMMAND_HIGH` (their single source of truth).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from control.gait import COMMAND_HIGH, COMMAND_LOW

# (low, high) for vx (m/s, forward), vy (m/s, left), wz (rad/s, counter-clockwise), in the
# robot's heading frame. Derived from `control.gait`, where the walking policy's trained command
# ranges live (the one source of truth training uses), so the tracker can never drift from them.
WALK_COMMAND_LIMITS: tuple[tuple[float, float], tuple[float, float], tuple[float, float]] = tuple(
    (float(lo), float(hi)) for lo, hi in zip(COMMAND_LOW, COMMAND_HIGH, strict=True)
)  # type: ignore[assignment]
# The walking policies have a dead zone: walk_v2 steps in place for a forward command under
# ~0.2 m/s and turns in place at ~0.04 rad/s when asked for 0.3 (see docs/walking.md), so the
# tracker never asks for less than the policy acts on.
CRUISE_MPS = 0.3  # forward walking speed
REVERSE_MPS = 0.2  # backing out of a station: slower, the robot does not see behind it
LOOKAHEAD_M = 0.25
TURN_IN_PLACE_RAD = 0.5  # heading error above which the robot stops and turns first
RESUME_WALK_RAD = 0.25  # ... and below which it walks again (hysteresis: no dithering)
K_YAW = 1.2  # rad/s per rad of heading error
MAX_TURN_RADPS = 0.6  # faster turns in place stumble sideways (walk_v1 fell at 0.8)
MIN_TURN_RADPS = 0.45  # a turn in place asked for less does not happen (the dead zone)
K_SLOW = 0.8  # 1/s: speed = K_SLOW * distance left, so the robot slows over the last ~0.4 m
MIN_SPEED_MPS = 0.2  # ... but not below this (the dead zone)
ARRIVAL_POS_M = 0.10  # arrived: pelvis within 10 cm of the goal (the arm skills servo the rest)
ARRIVAL_YAW_RAD = 0.15  # ... and heading within ~9 deg of the goal's
DOCK_M = 0.3  # the last stretch of the path: face the goal heading and step onto the goal
# Docking speeds: forward, back and sideways, where the shipped walking policy steps slowly but
# surely (`python -m benchmarks.walk_response` measures them). walk_v5 steps 0.07 m/s forward for
# 0.1 asked, 0.19 back for 0.1 and 0.18 sideways for 0.1; walk_v2's 0.3 m/s sideways overshot the
# goal and rocked the robot round it (docs/walking.md). walk_v6 (shipped since session 9)
# reaches nothing for 0.1 m/s forward: it docks forward at 0.2.
DOCK_FWD_MPS = 0.2
DOCK_BACK_MPS = 0.12
DOCK_SIDE_MPS = 0.1
FINAL_POS_M = 0.05  # docking ends this close to the goal; then a turn in place to its heading
STOP_POS_M = 0.08  # ... which may end as far as this from the goal (the turn shuffles the feet)
# Where docking aims, ahead of the goal along its heading: minus what the stop adds. Since the
# standing policy takes over only at rest (session 9) nothing steps back at the hand-over; walk_v6
# settles 1-3 cm forward after it (`python -m benchmarks.stops`, "along" after slow stops), and
# 2 cm ahead of the far counter's stand pose put a finger into the pepsi beside the coke. (For
# walk_v5 with the old hand-over it was +3 cm: the transition stepped the robot back.) What the
# walking policy's own stop adds, varying with the docking walk, `navigate` corrects on a re-dock.
STOP_AIM_AHEAD_M = -0.02
# The final turn aims at half the heading tolerance, so that the robot's last steps after the
# stop command still leave it inside the tolerance.
AIM_FRACTION = 0.5
ESCAPE_DONE_M = 0.02  # a backing-out segment is done when its end is this close behind the pelvis
SEARCH_AHEAD_M = 1.0  # the nearest path point is searched this far ahead of the last one


def pose_from_state(base_pos: np.ndarray, base_quat: np.ndarray) -> np.ndarray:
    """(x, y, yaw) of the pelvis from its world position and quaternion (w, x, y, z)."""
    w, x, y, z = (float(v) for v in base_quat)
    yaw = np.arctan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
    return np.array([float(base_pos[0]), float(base_pos[1]), float(yaw)])


def wrap(a: float) -> float:
    return float((a + np.pi) % (2 * np.pi) - np.pi)


def clip_command(v: np.ndarray) -> np.ndarray:
    """Clip (vx, vy, wz) into `WALK_COMMAND_LIMITS`. The linear part is scaled as a whole, so
    the direction of travel is kept; the turn rate is clipped on its own."""
    v = np.asarray(v, dtype=np.float64).copy()
    scale = 1.0
    for i in (0, 1):
        lo, hi = WALK_COMMAND_LIMITS[i]
        if v[i] > hi:
            scale = min(scale, hi / v[i])
        elif v[i] < lo:
            scale = min(scale, lo / v[i])
    v[:2] *= scale
    v[2] = float(np.clip(v[2], *WALK_COMMAND_LIMITS[2]))
    return v


def arrival_error(pose: np.ndarray, goal: np.ndarray) -> tuple[float, float]:
    """(position error m, |heading error| rad) of a pose against a goal (x, y, yaw)."""
    return float(np.linalg.norm(np.asarray(pose[:2]) - goal[:2])), abs(wrap(float(pose[2] - goal[2])))


def arrived(pose: np.ndarray, goal: np.ndarray) -> bool:
    pos, yaw = arrival_error(pose, goal)
    return pos <= ARRIVAL_POS_M and yaw <= ARRIVAL_YAW_RAD


@dataclass
class TrackerCommand:
    """One step of the tracker: what to send and where along the path the robot is."""

    velocity: np.ndarray  # (3,) vx, vy, wz, clipped
    phase: str  # walk | turn | dock | final_turn | arrived
    progress_m: float  # arc length of the nearest path point
    remaining_m: float  # arc length left to the goal
    cross_track_m: float  # distance to the nearest path point
    heading_error_rad: float  # to the path's yaw (or the goal's, in the final turn)


class PathTracker:
    """Stateful follower of one path (n, 3) of (x, y, yaw); `step(pose)` once per command."""

    def __init__(self, points: np.ndarray, aim_offset: np.ndarray | None = None) -> None:
        """`aim_offset`: (dx, dy) in the world frame added to where docking steers, on top of
        `STOP_AIM_AHEAD_M` (`navigate` passes how far the last stop settled from the goal)."""
        self.points = np.asarray(points, dtype=np.float64)
        if self.points.ndim != 2 or self.points.shape[1] != 3 or len(self.points) < 1:
            raise ValueError(f"a path is (n, 3) of x, y, yaw; got shape {self.points.shape}")
        seg = np.linalg.norm(np.diff(self.points[:, :2], axis=0), axis=1)
        self.s = np.concatenate([[0.0], np.cumsum(seg)])
        self.goal = self.points[-1]
        # where docking steers the pelvis: the goal moved `STOP_AIM_AHEAD_M` along its heading
        # (minus what the stop after docking adds), plus `aim_offset`
        self.aim = self.goal.copy()
        self.aim[:2] += STOP_AIM_AHEAD_M * np.array([np.cos(self.goal[2]), np.sin(self.goal[2])])
        if aim_offset is not None:
            self.aim[:2] += np.asarray(aim_offset, dtype=np.float64)
        # True on a segment the path backs along: its yaw points against its direction of travel
        tangent = np.gradient(self.points[:, :2], axis=0) if len(self.points) > 1 else np.zeros((1, 2))
        heading = np.column_stack([np.cos(self.points[:, 2]), np.sin(self.points[:, 2])])
        self.backwards = (tangent * heading).sum(axis=1) < 0.0
        self.k = 0  # index of the nearest point; never goes back
        self.turning = False
        self.turn_sign = 0.0  # direction of the turn in progress: kept near +-pi, see step()
        self.last_e = 0.0  # the previous heading error, to tell a sway past +-pi from a new heading
        self.final = False

    @property
    def length(self) -> float:
        return float(self.s[-1])

    def step(self, pose: np.ndarray) -> TrackerCommand:
        pose = np.asarray(pose, dtype=np.float64)
        p, yaw = pose[:2], float(pose[2])
        # nearest point, searched forwards from the last one (a path may pass near itself)
        ahead = np.flatnonzero((self.s >= self.s[self.k]) & (self.s <= self.s[self.k] + SEARCH_AHEAD_M))
        d = np.linalg.norm(self.points[ahead, :2] - p, axis=1)
        self.k = int(ahead[int(np.argmin(d))])
        cross = float(d.min())
        remaining = self.length - float(self.s[self.k])
        to_goal = float(np.linalg.norm(self.aim[:2] - p))

        pos_err, yaw_err = arrival_error(pose, self.aim)
        if self.final and pos_err <= STOP_POS_M and yaw_err <= AIM_FRACTION * ARRIVAL_YAW_RAD:
            return self._cmd(np.zeros(3), "arrived", remaining, cross, wrap(self.goal[2] - yaw))
        if self.final and to_goal > ARRIVAL_POS_M:
            self.final = False  # pushed off the goal while turning: walk back to it
        if self.final:
            # final turn to the goal heading, with a gentle pull back onto the goal
            e = wrap(self.goal[2] - yaw)
            v_world = 1.0 * (self.aim[:2] - p)
            v = np.array([*_to_body(v_world, yaw), self._turn_rate(e)])
            return self._cmd(v, "final_turn", remaining, cross, e)
        if remaining < DOCK_M and to_goal < DOCK_M + ARRIVAL_POS_M:
            return self._dock(pose, remaining, cross)
        if self.backwards[self.k]:
            escape = self._escape(pose, remaining, cross)
            if escape is not None:
                return escape

        # which way to face: the bearing of the pure-pursuit point (the goal at the end), turned
        # round on a backing-out segment; that bearing also pulls the robot back onto the path
        start = self.k
        j = self._pursuit_index(start)
        if j < len(self.points) - 1 and np.linalg.norm(self.points[j, :2] - p) <= 0.5 * LOOKAHEAD_M:
            start = j = self._pursuit_index(j + 1)  # at the end of a segment: on to the next one
        direction = self.points[j, :2] - p
        norm = float(np.linalg.norm(direction))
        if norm > 0.5 * LOOKAHEAD_M:
            reverse = bool(self.backwards[start])
            e = wrap(float(np.arctan2(direction[1], direction[0])) + (np.pi if reverse else 0.0) - yaw)
        else:  # the last centimetres: the bearing swings wildly, keep the path's heading
            reverse = _to_body(direction, yaw)[0] < 0.0  # overshot: step back
            e = wrap(float(self.points[self.k, 2]) - yaw)
        if self.turning and np.sign(e) != self.turn_sign and abs(e + 2.0 * np.pi * self.turn_sign - self.last_e) < abs(e - self.last_e):
            # near +-pi the wrapped error flips sign as the robot sways; reversing the turn each
            # time made the robot rock on the spot and fall: finish the turn the way it started
            # (but a new heading to face, past the end of a backing-out segment, is a new turn)
            e += 2.0 * np.pi * self.turn_sign
        self.last_e = e
        if abs(e) > TURN_IN_PLACE_RAD:
            if not self.turning:
                self.turn_sign = float(np.sign(e))
            self.turning = True
        elif abs(e) < RESUME_WALK_RAD:
            self.turning = False
        if self.turning:
            return self._cmd(np.array([0.0, 0.0, self._turn_rate(e)]), "turn", remaining, cross, e)

        # straight forward or straight back, steered by the heading: no sideways command (the
        # walking policies track vy poorly; a unicycle law needs only vx and wz)
        cruise = REVERSE_MPS if reverse else CRUISE_MPS
        speed = min(cruise, max(MIN_SPEED_MPS, K_SLOW * (remaining + cross)))
        v = np.array([-speed if reverse else speed, 0.0, K_YAW * e])
        return self._cmd(v, "walk", remaining, cross, e)

    def _dock(self, pose: np.ndarray, remaining: float, cross: float) -> TrackerCommand:
        """The last `DOCK_M`: face the goal's heading and step straight onto the goal, forward,
        back or sideways. Steering by the bearing this close makes the robot circle the goal: a
        few centimetres sideways is a large angle, and the policy cannot take a short step."""
        p, yaw = pose[:2], float(pose[2])
        e = wrap(float(self.goal[2]) - yaw)
        if abs(e) > TURN_IN_PLACE_RAD:
            self.turning = True
        elif abs(e) < RESUME_WALK_RAD:
            self.turning = False
        if self.turning:
            return self._cmd(np.array([0.0, 0.0, self._turn_rate(e)]), "turn", remaining, cross, e)
        d = _to_body(self.aim[:2] - p, yaw)
        if float(np.linalg.norm(d)) <= FINAL_POS_M:
            self.final = True
            return self._cmd(np.array([0.0, 0.0, self._turn_rate(e)]), "final_turn", remaining, cross, e)
        near = FINAL_POS_M / np.sqrt(2.0)  # both axes inside this: inside FINAL_POS_M
        vx = (DOCK_FWD_MPS if d[0] > 0 else -DOCK_BACK_MPS) if abs(d[0]) > near else 0.0
        vy = float(np.sign(d[1])) * DOCK_SIDE_MPS if abs(d[1]) > near else 0.0
        return self._cmd(np.array([vx, vy, K_YAW * e]), "dock", remaining, cross, e)

    def _escape(self, pose: np.ndarray, remaining: float, cross: float) -> TrackerCommand | None:
        """On a backing-out segment (a straight line out of a station, a few tens of cm): back
        straight out holding the segment's heading until the pelvis is level with its end, then
        None (and the nearest point moves past it). Pure pursuit on so short a segment steered by
        a bearing that swings with every centimetre the robot sways sideways, and turned it in
        place back and forth at the station."""
        first, end = self._run(self.k)
        u = self.points[end, :2] - self.points[first, :2]
        if float(np.linalg.norm(u)) < 1e-6:
            return None
        u /= np.linalg.norm(u)
        short = float(np.dot(self.points[end, :2] - pose[:2], u))  # how far the end still lies behind
        if short <= ESCAPE_DONE_M or end == len(self.points) - 1:
            self.k = min(end + 1, len(self.points) - 1)
            return None
        e = wrap(float(self.points[end, 2]) - float(pose[2]))
        return self._cmd(np.array([-REVERSE_MPS, 0.0, K_YAW * e]), "walk", remaining, cross, e)

    def _run(self, k: int) -> tuple[int, int]:
        """First and last index of the stretch of points around k that share k's `backwards` flag."""
        first, last = k, k
        while first > 0 and self.backwards[first - 1] == self.backwards[k]:
            first -= 1
        while last < len(self.points) - 1 and self.backwards[last + 1] == self.backwards[k]:
            last += 1
        return first, last

    def _pursuit_index(self, k: int) -> int:
        """The path point `LOOKAHEAD_M` past point k, but no further than the end of k's segment
        (a backing-out segment and the forward walk after it are pursued one after the other)."""
        return min(int(np.searchsorted(self.s, self.s[k] + LOOKAHEAD_M)), self._run(k)[1])

    def _turn_rate(self, e: float) -> float:
        w = K_YAW * e
        return float(np.sign(e) * max(abs(w), MIN_TURN_RADPS)) if abs(e) > 0.02 else w

    def _cmd(self, v: np.ndarray, phase: str, remaining: float, cross: float, e: float) -> TrackerCommand:
        v = np.asarray(v, dtype=np.float64).copy()
        v[2] = float(np.clip(v[2], -MAX_TURN_RADPS, MAX_TURN_RADPS))
        return TrackerCommand(clip_command(v), phase, float(self.s[self.k]), remaining, cross, float(e))


def _to_body(v_world: np.ndarray, yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([c * v_world[0] + s * v_world[1], -s * v_world[0] + c * v_world[1]])
