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
the partner joint (found by reflected geometry, or the joint itself) has world axis b = +-S a at
the default pose, which fixes the sign. The gait clock mirrors by half a period: the left leg swings
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


def _mirror_partner(model: mujoco.MjModel, data: mujoco.MjData, joint: int, candidates: list[int]) -> tuple[int, float]:
    """The joint among `candidates` that is `joint` reflected, and the dot of their world axes.

    Matched by geometry, not by name: the partner's anchor and its body's centre of mass sit at
    the reflected places and its axis is parallel to the reflected axis. Names can mislead: the
    fingers are named a/b on each hand, but left_finger_a is the outer finger and right_finger_a
    the inner one, and pairing them by name mirrored an open gripper into a negative opening
    that no robot can have (which is why walk_v4's symmetry loss taught it nothing about turning).
    """
    body = model.jnt_bodyid[joint]
    anchor, com = data.xanchor[joint] * REFLECT, data.xipos[body] * REFLECT
    axis = data.xaxis[joint] * REFLECT
    for k in candidates:
        b = model.jnt_bodyid[k]
        dot = float(np.dot(axis, data.xaxis[k]))
        if (
            np.allclose(data.xanchor[k], anchor, atol=1e-6)
            and np.allclose(data.xipos[b], com, atol=1e-6)
            and abs(abs(dot) - 1.0) < 1e-6
            and model.jnt_type[k] == model.jnt_type[joint]
        ):
            return k, dot
    name = model.joint(joint).name
    raise ValueError(
        f"joint '{name}' has no mirror image among the robot's joints (nothing at the reflected anchor "
        f"{np.round(anchor, 3)} with an axis parallel to {np.round(axis, 3)}): the robot is not left-right "
        "symmetric, do not train it with a symmetry loss"
    )


def joint_mirror(spec: RobotSpec, model: mujoco.MjModel) -> MirrorMap:
    """Mirror map over the robot's actuated joints (the spec's wire order)."""
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    names = list(spec.joint_names)
    ids = [model.joint(n).id for n in names]
    perm, sign = np.zeros(len(names), dtype=int), np.zeros(len(names))
    for i, jid in enumerate(ids):
        k, dot = _mirror_partner(model, data, jid, ids)
        hinge = model.jnt_type[jid] == mujoco.mjtJoint.mjJNT_HINGE
        perm[i], sign[i] = ids.index(k), (-1.0 if hinge else 1.0) * np.sign(dot)
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
