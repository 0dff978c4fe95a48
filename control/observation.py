"""The balance policy's observation and action layout: the ONE source of truth.

Training (`control/train/env.py`) and deployment (`control/policy.py`, the control loop) both
build observations and joint targets through `PolicyIO`, so the runtime cannot drift from
what the policy was trained on (as MuJoCo Playground / legged_gym keep one obs spec).

Observation, in this order (all float32; `n` = actuated joints in wire order, 31 here):

    term               size     value                                               scale
    projected_gravity  3        unit gravity (0, 0, -1) in the base frame (IMU)      1.0
    gyro               3        base angular velocity, base frame (rad/s)            0.25
    joint_pos          n        q - default_q (rad, m for fingers)                   1.0
    joint_vel          n        qd (rad/s)                                            0.05
    upper_ref          n_up     upper_ref - default_q on arms + grippers (18)        1.0
    last_action        n_act    the previous (clipped) policy action                 1.0

Only what a real robot measures: no world position, no base linear velocity.

Action: `n_act` = 13 values for legs (12) + waist (1), in `spec.indices(("legs", "waist"))`
order, clipped to +-ACTION_CLIP. Joint targets: controlled joints = default_q +
action_scale * action; arms and grippers = `upper_ref` (the motion layer's references).

The walking policy (`PolicyIO(spec, kind="walk")`) uses the same terms plus two at the end,
and controls the legs only (the waist is held at its default, the arms follow `upper_ref`):

    command            3        (vx, vy, wz) heading frame, clipped to control.gait ranges  1.0
    gait               3        sin, cos of the gait phase (x amplitude), amplitude          1.0

Its joint targets are default_q + `control.gait.leg_reference` (the stepping reference) +
action_scale * action on the legs: the policy learns a correction to a stepping rhythm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bridge.messages import RobotState
from humanoid.robot_spec import RobotSpec

CONTROLLED_GROUPS = ("legs", "waist")
WALK_CONTROLLED_GROUPS = ("legs",)
POLICY_KINDS = ("stand", "walk")
UPPER_GROUPS = ("left_arm", "right_arm", "left_gripper", "right_gripper")
ACTION_CLIP = 4.0  # x action_scale 0.25 = at most 1 rad from the default pose
LAYOUT_VERSION = 1


@dataclass(frozen=True)
class ObsTerm:
    name: str
    size: int
    scale: float
    start: int

    @property
    def slice(self) -> slice:
        return slice(self.start, self.start + self.size)


def projected_gravity(base_quat_wxyz: np.ndarray) -> np.ndarray:
    """World gravity direction (0, 0, -1) expressed in the base frame; works on (..., 4) arrays.

    That is R(q)^T @ (0, 0, -1): what a body-fixed accelerometer reads at rest, normalised.
    """
    q = np.asarray(base_quat_wxyz, dtype=np.float64)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    # third row of R(q), negated (R^T e_z is R's third row)
    gx = -2.0 * (x * z - w * y)
    gy = -2.0 * (y * z + w * x)
    gz = -(1.0 - 2.0 * (x * x + y * y))
    return np.stack([gx, gy, gz], axis=-1)


def tilt_from_gravity(gravity_base: np.ndarray) -> np.ndarray:
    """Angle (rad) between the base's z axis and world up, from the projected gravity vector."""
    g = np.asarray(gravity_base, dtype=np.float64)
    cos = np.clip(-g[..., 2] / np.maximum(np.linalg.norm(g, axis=-1), 1e-9), -1.0, 1.0)
    return np.arccos(cos)


class PolicyIO:
    """Observation builder and action decoder for one robot spec."""

    def __init__(self, spec: RobotSpec, kind: str = "stand") -> None:
        if kind not in POLICY_KINDS:
            raise ValueError(f"unknown policy kind '{kind}'; expected one of {POLICY_KINDS}")
        self.spec = spec
        self.kind = kind
        self.n_joints = spec.n_joints
        self.controlled_idx = spec.indices(WALK_CONTROLLED_GROUPS if kind == "walk" else CONTROLLED_GROUPS)
        # joints neither the policy nor the motion layer drives: held at the default pose
        self.held_idx = spec.indices(("waist",)) if kind == "walk" else np.zeros(0, dtype=int)
        self.upper_idx = spec.indices(UPPER_GROUPS)
        self.action_dim = len(self.controlled_idx)
        self.action_scale = float(spec.action_scale)
        self.action_clip = ACTION_CLIP
        self.default_q = np.asarray(spec.default_q, dtype=np.float64)
        sizes = (
            ("projected_gravity", 3, 1.0),
            ("gyro", 3, 0.25),
            ("joint_pos", self.n_joints, 1.0),
            ("joint_vel", self.n_joints, 0.05),
            ("upper_ref", len(self.upper_idx), 1.0),
            ("last_action", self.action_dim, 1.0),
        )
        if kind == "walk":
            sizes += (("command", 3, 1.0), ("gait", 3, 1.0))
        terms, start = [], 0
        for name, size, scale in sizes:
            terms.append(ObsTerm(name, size, scale, start))
            start += size
        self.terms: tuple[ObsTerm, ...] = tuple(terms)
        self.obs_dim = start

    def term(self, name: str) -> ObsTerm:
        for t in self.terms:
            if t.name == name:
                return t
        raise KeyError(f"no observation term '{name}'; terms: {[t.name for t in self.terms]}")

    def signature(self) -> str:
        """A short text naming the layout; stored in the ONNX metadata and checked at load time."""
        body = ",".join(f"{t.name}:{t.size}*{t.scale:g}" for t in self.terms)
        kind = "" if self.kind == "stand" else f"{self.kind}|"  # stand keeps the v1 string stand_v1 shipped with
        return f"v{LAYOUT_VERSION}|{kind}{self.spec.name}|{body}|act:{self.action_dim}*{self.action_scale:g}"

    def build_observation_batch(
        self,
        base_quat: np.ndarray,
        gyro: np.ndarray,
        q: np.ndarray,
        qd: np.ndarray,
        upper_ref: np.ndarray,
        last_action: np.ndarray,
        command: np.ndarray | None = None,
        gait: np.ndarray | None = None,
    ) -> np.ndarray:
        """Observations for a batch: every argument has a leading batch axis; returns (B, obs_dim).

        `command` (B, 3) and `gait` (B, 3) are needed by the walking layout only.
        """
        b = q.shape[0]
        obs = np.empty((b, self.obs_dim), dtype=np.float32)
        parts = {
            "projected_gravity": projected_gravity(base_quat),
            "gyro": gyro,
            "joint_pos": q - self.default_q,
            "joint_vel": qd,
            "upper_ref": upper_ref[:, self.upper_idx] - self.default_q[self.upper_idx],
            "last_action": last_action,
            "command": command,
            "gait": gait,
        }
        if self.kind == "walk" and (command is None or gait is None):
            raise ValueError("the walking layout needs `command` and `gait` observations")
        for t in self.terms:
            obs[:, t.slice] = parts[t.name] * t.scale
        return obs

    def build_observation(
        self,
        state: RobotState,
        upper_ref: np.ndarray,
        last_action: np.ndarray,
        command: np.ndarray | None = None,
        gait: np.ndarray | None = None,
    ) -> np.ndarray:
        """The observation for one `RobotState`; `upper_ref` is a full n_joints target vector."""
        upper_ref = np.asarray(upper_ref, dtype=np.float64)
        last_action = np.asarray(last_action, dtype=np.float64)
        if upper_ref.shape != (self.n_joints,):
            raise ValueError(f"upper_ref: expected shape ({self.n_joints},), got {upper_ref.shape}")
        if last_action.shape != (self.action_dim,):
            raise ValueError(f"last_action: expected shape ({self.action_dim},), got {last_action.shape}")
        return self.build_observation_batch(
            np.asarray(state.base_quat)[None],
            np.asarray(state.base_angvel)[None],
            np.asarray(state.q)[None],
            np.asarray(state.qd)[None],
            upper_ref[None],
            last_action[None],
            None if command is None else np.asarray(command, dtype=np.float64)[None],
            None if gait is None else np.asarray(gait, dtype=np.float64)[None],
        )[0]

    def split_observation(self, obs: np.ndarray) -> dict[str, np.ndarray]:
        """Undo the scales: term name -> the unscaled values (for logging and tests)."""
        return {t.name: np.asarray(obs[..., t.slice], dtype=np.float64) / t.scale for t in self.terms}

    def targets_from_action(
        self, action: np.ndarray, upper_ref: np.ndarray, leg_reference: np.ndarray | None = None
    ) -> np.ndarray:
        """Full joint targets: controlled joints from the (clipped) action, arms+grippers from `upper_ref`.

        Works on a single vector or a batch (leading axis on every argument). The walking
        layout adds `leg_reference` (`control.gait.leg_reference`) under the action.
        """
        action = np.clip(np.asarray(action, dtype=np.float64), -self.action_clip, self.action_clip)
        q_target = np.array(upper_ref, dtype=np.float64, copy=True)
        offset = self.action_scale * action
        if leg_reference is not None:
            offset = offset + leg_reference
        elif self.kind == "walk":
            raise ValueError("the walking layout needs the gait's `leg_reference`")
        q_target[..., self.controlled_idx] = self.default_q[self.controlled_idx] + offset
        q_target[..., self.held_idx] = self.default_q[self.held_idx]
        return q_target

    def default_upper_ref(self) -> np.ndarray:
        """An `upper_ref` that holds arms and grippers at the default pose."""
        return self.default_q.copy()
