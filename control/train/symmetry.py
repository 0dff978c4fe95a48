"""Left-right mirror maps of the walking policy's observation and action, for a symmetry loss.

A humanoid mirrored in its sagittal plane (world y -> -y) is another valid humanoid state, and
the mirror of a good action there is a good action here. A policy trained on one seed need not
learn that: walk_v2 turned left at 0.51 rad/s when asked for 0.6 but right at 0.39, and with the
grippers closed hardly right at all. The symmetry loss (Yu, Turk, Liu 2018, "Learning Symmetric
and Low-Energy Locomotion") penalises |pi(s) - M_a(pi(M_s(s)))|^2, teaching each side what the
other side does.

Each map is a permutation and a sign per entry. The joint part is derived from the model, not
from names and axis conventions: a reflection S turns a hinge rotating by q about world axis a
into one rotating by -q about S a, and a slide moving by q along a into one moving by q along S a;
the partner joint (left_* <-> right_*, or the joint itself) has world axis b = +-S a at the
default pose, which fixes the sign. The gait clock mirrors by half a period: the left leg swings
while sin(phase) > 0 (`control.gait`), so the mirrored robot is the one whose right leg swings.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np
import torch

from control.observation import PolicyIO
from humanoid.robot_spec import RobotSpec

REFLECT = np.array([1.0, -1.0, 1.0])  # the sagittal mirror S: y -> -y


@dataclass(frozen=True)
class MirrorMap:
    """x_mirrored = sign * x[perm] (works on the last axis of arrays and tensors alike)."""

    perm: np.ndarray
    sign: np.ndarray

    def __call__(self, x):
        if isinstance(x, torch.Tensor):
            return x[..., torch.as_tensor(self.perm)] * torch.as_tensor(self.sign, dtype=x.dtype)
        return x[..., self.perm] * self.sign


def partner(name: str) -> str:
    for a, b in (("left_", "right_"), ("right_", "left_")):
        if name.startswith(a):
            return b + name[len(a) :]
    return name


def joint_mirror(spec: RobotSpec, model: mujoco.MjModel) -> MirrorMap:
    """Mirror map over the robot's actuated joints (the spec's wire order)."""
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    names = list(spec.joint_names)
    perm, sign = np.zeros(len(names), dtype=int), np.zeros(len(names))
    for i, name in enumerate(names):
        other = partner(name)
        if other not in names:
            raise ValueError(f"joint '{name}' has no mirror partner '{other}' in robot '{spec.name}'")
        j = names.index(other)
        a = data.xaxis[model.joint(other).id] * REFLECT  # the partner's axis, mirrored
        b = data.xaxis[model.joint(name).id]
        dot = float(np.dot(a, b))
        if abs(abs(dot) - 1.0) > 1e-6:
            raise ValueError(
                f"joints '{name}' and '{other}' are not mirror images (axes {np.round(b, 3)} and mirrored "
                f"{np.round(a, 3)}): the robot is not left-right symmetric, do not train it with a symmetry loss"
            )
        hinge = model.jnt_type[model.joint(name).id] == mujoco.mjtJoint.mjJNT_HINGE
        perm[i], sign[i] = j, (-1.0 if hinge else 1.0) * np.sign(dot)
    return MirrorMap(perm, sign)


def walk_mirrors(io: PolicyIO, model: mujoco.MjModel) -> tuple[MirrorMap, MirrorMap]:
    """(observation map, action map) for the walking layout."""
    joints = joint_mirror(io.spec, model)

    def restrict(idx: np.ndarray) -> MirrorMap:
        where = {int(k): n for n, k in enumerate(idx)}
        return MirrorMap(np.array([where[int(joints.perm[k])] for k in idx]), joints.sign[idx])

    upper, legs = restrict(io.upper_idx), restrict(io.controlled_idx)
    per_term = {
        "projected_gravity": MirrorMap(np.arange(3), REFLECT),  # a vector
        "gyro": MirrorMap(np.arange(3), -REFLECT),  # an angular velocity: a pseudo-vector
        "joint_pos": joints,
        "joint_vel": joints,
        "upper_ref": upper,
        "last_action": legs,
        "command": MirrorMap(np.arange(3), np.array([1.0, -1.0, -1.0])),  # vx, vy, wz
        "gait": MirrorMap(np.arange(3), np.array([-1.0, -1.0, 1.0])),  # phase + half a period
    }
    perm, sign = np.zeros(io.obs_dim, dtype=int), np.zeros(io.obs_dim)
    for t in io.terms:
        m = per_term[t.name]
        perm[t.slice] = t.slice.start + m.perm
        sign[t.slice] = m.sign
    return MirrorMap(perm, sign), legs
