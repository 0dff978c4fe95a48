"""Leg controllers that walk: the frozen walking policy, and the stand/walk switch the loop runs.

`LocomotionController` keeps the standing policy in charge while the base is not commanded
to move (it is the better balancer while the arms work) and hands over to the walking policy
when a base velocity arrives. The walking policy ramps its stepping in and out itself
(`control.gait`); at each hand-over the joint targets cross-fade from the last target sent to
the new controller's over `BLEND_S`, so a change of mode never jumps a joint target.
Nothing here learns or adapts: both policies are frozen, hash-verified ONNX files.
"""

from __future__ import annotations

import time

import numpy as np

from bridge.messages import RobotState
from control.gait import GaitClock, clip_command, wants_motion
from control.observation import PolicyIO
from control.policy import FrozenPolicy
from humanoid.robot_spec import RobotSpec

BLEND_S = 0.3  # cross-fade of joint targets at a stand <-> walk hand-over
# Back to the standing policy only once the robot is at rest on the walking policy: the
# stepping has ramped out and the pelvis (low-passed over `REST_FILTER_S`) has moved slower than
# `REST_SPEED_MPS` and turned slower than `REST_YAW_RATE` for `SETTLE_S`. The standing policy
# cannot step: handed a robot still moving at 0.15 m/s or more it fell (benchmarks/stops.py:
# walk_v5 handed over 0.9 s after a stop from walking backward at 0.4-1.2 m/s, 3 of 3 fell; walk_v6
# after 0.6 m/s, 3 of 3). A walking policy that never comes to rest is handed over after
# `SETTLE_MAX_S` anyway, so a stop always ends on the standing policy (docs/walking.md, "Hand-over").
SETTLE_S = 0.5
REST_SPEED_MPS = 0.08
REST_YAW_RATE = 0.15  # rad/s
REST_FILTER_S = 0.2
SETTLE_MAX_S = 3.0


class WalkPolicyController:
    """The frozen walking policy with its gait clock; `command` is (vx, vy, wz), heading frame."""

    def __init__(self, spec: RobotSpec, policy_name: str = "walk") -> None:
        self.io = PolicyIO(spec, kind="walk")
        self.policy = FrozenPolicy(spec.policy(policy_name), self.io)
        self.name = f"policy:{policy_name}"
        self.clock = GaitClock(dt=1.0 / spec.control_rate_hz)
        self.last_action = np.zeros(self.io.action_dim, dtype=np.float32)
        self.last_latency_s = 0.0

    def reset(self) -> None:
        self.clock.reset()
        self.last_action[:] = 0.0

    def targets(self, state: RobotState, upper_ref: np.ndarray, command: np.ndarray | None = None) -> np.ndarray:
        t0 = time.perf_counter()
        cmd, _ = clip_command(np.zeros(3) if command is None else command)
        # same order as training (control/train/walk_env.py): observe the clock, act, advance, reference
        # the policy sees the ramped command the reference is built from (control/gait.py)
        obs = self.io.build_observation(state, upper_ref, self.last_action, self.clock.command, self.clock.observation())
        self.last_action = self.policy.act(obs)
        self.clock.advance(cmd)
        q = self.io.targets_from_action(self.last_action, upper_ref, self.clock.reference())
        self.last_latency_s = time.perf_counter() - t0
        return q


class LocomotionController:
    """Standing policy at rest, walking policy while the base is commanded; blended hand-overs."""

    def __init__(self, spec: RobotSpec, stand_policy: str = "stand", walk_policy: str = "walk") -> None:
        from control.loop import PolicyLegController  # the standing policy's controller

        self.stand = PolicyLegController(spec, stand_policy)
        self.walk = WalkPolicyController(spec, walk_policy)
        self.name = f"{self.stand.name}+{self.walk.name}"
        self.dt = 1.0 / spec.control_rate_hz
        self.legs = spec.indices(("legs", "waist"))
        self.mode = "stand"
        self._still_s = 0.0  # at rest on the walking policy this long
        self._stopped_s = 0.0  # stepping ramped out this long
        self._speed = 0.0  # low-passed horizontal pelvis speed (m/s)
        self._yaw_rate = 0.0
        self._blend_left = 0.0
        self._blend_from: np.ndarray | None = None
        self._last_q: np.ndarray | None = None
        self.last_latency_s = 0.0

    def _hand_over(self, mode: str) -> None:
        self.mode = mode
        self._still_s = self._stopped_s = 0.0
        self._blend_left = BLEND_S if self._last_q is not None else 0.0
        self._blend_from = None if self._last_q is None else self._last_q.copy()
        if mode == "walk":
            self.walk.reset()
        else:
            self.stand.last_action[:] = 0.0

    def targets(self, state: RobotState, upper_ref: np.ndarray, command: np.ndarray | None = None) -> np.ndarray:
        cmd = np.zeros(3) if command is None else np.asarray(command, dtype=np.float64)
        moving = bool(wants_motion(cmd))
        if self.mode == "stand" and moving:
            self._hand_over("walk")
        elif self.mode == "walk":
            a = min(1.0, self.dt / REST_FILTER_S)
            self._speed += a * (float(np.linalg.norm(state.base_linvel[:2])) - self._speed)
            self._yaw_rate += a * (abs(float(state.base_angvel[2])) - self._yaw_rate)
            stepping = moving or self.walk.clock.amplitude > 0.0
            at_rest = self._speed < REST_SPEED_MPS and self._yaw_rate < REST_YAW_RATE
            self._stopped_s = 0.0 if stepping else self._stopped_s + self.dt
            self._still_s = self._still_s + self.dt if (not stepping and at_rest) else 0.0
            if self._still_s >= SETTLE_S or self._stopped_s >= SETTLE_MAX_S:
                self._hand_over("stand")
        active = self.walk if self.mode == "walk" else self.stand
        q = active.targets(state, upper_ref, cmd)
        self.last_latency_s = active.last_latency_s
        if self._blend_left > 0.0 and self._blend_from is not None:
            a = 1.0 - self._blend_left / BLEND_S
            q = q.copy()
            q[self.legs] = (1.0 - a) * self._blend_from[self.legs] + a * q[self.legs]
            self._blend_left = max(0.0, self._blend_left - self.dt)
        self._last_q = q
        return q
