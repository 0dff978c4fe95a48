"""Follow a planned base path: the current pelvis pose in, a walking command (vx, vy, wz) out.

The law: pure pursuit for the position (head for the path point `LOOKAHEAD_M` ahead of the
nearest one, which irons out the path's 5 cm steps), and a proportional heading controller
towards the path's own yaw at the nearest point. Both go out as one velocity in the robot's
heading frame, because the walking policy is omnidirectional (vx, vy, wz): a backing-out or
docking segment keeps its heading and moves straight back or forward, which a unicycle law
(heading = direction of travel) cannot do. Where the heading error is large (a junction
between those segments and the transit, or a sharp bend) the robot turns in place first; near
the goal it slows down; at the goal it turns in place to the goal heading.

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
CRUISE_MPS = 0.25  # forward walking speed: walk_v1 tracks it best (faster, its heading wanders)
SIDE_CRUISE_MPS = 0.2  # backing out, sidestepping: slower, the robot does not see behind it
LOOKAHEAD_M = 0.25
TURN_IN_PLACE_RAD = 0.5  # heading error above which the robot stops and turns first
RESUME_WALK_RAD = 0.25  # ... and below which it walks again (hysteresis: no dithering)
K_YAW = 0.8  # rad/s per rad of heading error (1.5 made walk_v1's heading oscillate)
MAX_TURN_RADPS = 0.4  # walk_v1 turns steadily up to here; at 0.8 it stumbled sideways and fell
MIN_TURN_RADPS = 0.15  # a turn command smaller than this may not make the policy step at all
K_SLOW = 0.8  # 1/s: speed = K_SLOW * distance left, so the robot slows over the last ~0.4 m
MIN_SPEED_MPS = 0.10  # ... but not below this: slower, walk_v1 steps without getting anywhere
ARRIVAL_POS_M = 0.10  # arrived: pelvis within 10 cm of the goal (the arm skills servo the rest)
ARRIVAL_YAW_RAD = 0.15  # ... and heading within ~9 deg of the goal's
FINAL_POS_M = 0.04  # the walk phase ends this close to the goal; the final turn corrects drift
# The tracker aims at half the arrival tolerance, so that the robot's last steps after the
# stop command still leave it inside the tolerance.
AIM_FRACTION = 0.5
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
    phase: str  # walk | turn | final_turn | arrived
    progress_m: float  # arc length of the nearest path point
    remaining_m: float  # arc length left to the goal
    cross_track_m: float  # distance to the nearest path point
    heading_error_rad: float  # to the path's yaw (or the goal's, in the final turn)


class PathTracker:
    """Stateful follower of one path (n, 3) of (x, y, yaw); `step(pose)` once per command."""

    def __init__(self, points: np.ndarray) -> None:
        self.points = np.asarray(points, dtype=np.float64)
        if self.points.ndim != 2 or self.points.shape[1] != 3 or len(self.points) < 1:
            raise ValueError(f"a path is (n, 3) of x, y, yaw; got shape {self.points.shape}")
        seg = np.linalg.norm(np.diff(self.points[:, :2], axis=0), axis=1)
        self.s = np.concatenate([[0.0], np.cumsum(seg)])
        self.goal = self.points[-1]
        self.k = 0  # index of the nearest point; never goes back
        self.turning = False
        self.turn_sign = 0.0  # direction of the turn in progress: kept near +-pi, see step()
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
        to_goal = float(np.linalg.norm(self.goal[:2] - p))

        pos_err, yaw_err = arrival_error(pose, self.goal)
        if (
            pos_err <= AIM_FRACTION * ARRIVAL_POS_M
            and yaw_err <= AIM_FRACTION * ARRIVAL_YAW_RAD
            and (self.final or remaining < ARRIVAL_POS_M)
        ):
            return self._cmd(np.zeros(3), "arrived", remaining, cross, wrap(self.goal[2] - yaw))
        if self.final and to_goal > ARRIVAL_POS_M:
            self.final = False  # pushed off the goal while turning: walk back to it
        if self.final or (remaining < ARRIVAL_POS_M and to_goal < FINAL_POS_M):
            # final turn to the goal heading, with a gentle pull back onto the goal
            self.final = True
            e = wrap(self.goal[2] - yaw)
            v_world = 1.0 * (self.goal[:2] - p)
            v = np.array([*_to_body(v_world, yaw), self._turn_rate(e)])
            return self._cmd(v, "final_turn", remaining, cross, e)

        e = wrap(float(self.points[self.k, 2]) - yaw)
        if self.turning and np.sign(e) != self.turn_sign and abs(e) > np.pi / 2:
            # near +-pi the wrapped error flips sign as the robot sways; reversing the turn each
            # time made the robot rock on the spot and fall: finish the turn the way it started
            e += 2.0 * np.pi * self.turn_sign
        if abs(e) > TURN_IN_PLACE_RAD:
            if not self.turning:
                self.turn_sign = float(np.sign(e))
            self.turning = True
        elif abs(e) < RESUME_WALK_RAD:
            self.turning = False
        if self.turning:
            return self._cmd(np.array([0.0, 0.0, self._turn_rate(e)]), "turn", remaining, cross, e)

        # pure pursuit: the point LOOKAHEAD_M further along (the goal at the end)
        j = int(np.searchsorted(self.s, self.s[self.k] + LOOKAHEAD_M))
        target = self.points[min(j, len(self.points) - 1), :2]
        direction = target - p
        norm = float(np.linalg.norm(direction))
        if norm < 1e-9:
            direction, norm = self.goal[:2] - p, max(to_goal, 1e-9)
        body = _to_body(direction / norm, yaw)
        forward = body[0] > np.cos(np.pi / 4)  # mostly forward: full cruise; else the slower one
        cruise = CRUISE_MPS if forward else SIDE_CRUISE_MPS
        speed = min(cruise, max(MIN_SPEED_MPS, K_SLOW * (remaining + cross)))
        v = np.array([*(speed * body), K_YAW * e])
        return self._cmd(v, "walk", remaining, cross, e)

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
