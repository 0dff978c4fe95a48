"""A simulated robot for physics tests of the motion layer: SimWorld + ControlLoop.

The legs run `AnkleBalanceController`, a test stand-in for the frozen RL policy: PD at the
default pose plus ankle/hip corrections proportional to the base's tilt, so that the body
does not slowly topple while an arm reaches out (plain PD legs lean ~0.1 rad and drift).
"""

from __future__ import annotations

import numpy as np

from bridge.messages import RobotState
from bridge.sim_world import SimWorld
from control.loop import ControlLoop
from humanoid.robot_spec import RobotSpec
from scenarios.world import World


class AnkleBalanceController:
    name = "ankle_balance(test)"

    def __init__(self, spec: RobotSpec, k: float = 1.0, kd: float = 0.1, k_hip: float = 1.0) -> None:
        names = list(spec.joint_names)
        self.legs = spec.indices(("legs", "waist"))
        self.default_q = spec.default_q
        self.ankle_pitch = [names.index(f"{s}_ankle_pitch") for s in ("left", "right")]
        self.ankle_roll = [names.index(f"{s}_ankle_roll") for s in ("left", "right")]
        self.hip_pitch = [names.index(f"{s}_hip_pitch") for s in ("left", "right")]
        self.k, self.kd, self.k_hip = k, kd, k_hip
        self.last_latency_s = 0.0

    def targets(self, state: RobotState, upper_ref: np.ndarray, command: np.ndarray | None = None) -> np.ndarray:
        q = upper_ref.copy()
        q[self.legs] = self.default_q[self.legs]
        w, x, y, z = state.base_quat
        pitch = float(np.arcsin(np.clip(2 * (w * y - z * x), -1.0, 1.0)))
        roll = float(np.arctan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y)))
        q[self.ankle_pitch] += self.k * pitch + self.kd * state.base_angvel[1]
        q[self.hip_pitch] += self.k_hip * pitch
        q[self.ankle_roll] -= self.k * roll + self.kd * state.base_angvel[0]
        return q


def make_rig(
    world: World,
    seed: int = 0,
    balance: bool = True,
    robot_xy_yaw: tuple[float, float, float] = (0.0, 0.0, 0.0),
    policy: str | None = None,
) -> tuple[SimWorld, ControlLoop]:
    """`policy` names a trained leg policy from the robot's manifest (the product's legs);
    otherwise the balance stand-in, or plain PD (`balance=False`)."""
    from control.loop import HoldController, PolicyLegController

    sim = SimWorld(world, seed=seed, robot_xy_yaw=robot_xy_yaw)
    if policy is not None:
        legs = PolicyLegController(world.robot, policy)
    else:
        legs = AnkleBalanceController(world.robot) if balance else HoldController(world.robot)
    return sim, ControlLoop(world.robot, sim, legs)
