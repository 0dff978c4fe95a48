"""Fixtures for the control layer's tests (the `spec` fixture comes from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from bridge.messages import RobotState
from humanoid.robot_spec import RobotSpec


@pytest.fixture
def make_state(spec: RobotSpec) -> Callable[..., RobotState]:
    """Build a RobotState of the robot standing still in its default pose, with overrides."""

    def build(**overrides) -> RobotState:
        n = spec.n_joints
        fields = dict(
            seq=0,
            sim_time=1.0,
            q=spec.default_q.copy(),
            qd=np.zeros(n),
            tau=np.zeros(n),
            base_pos=np.array([0.0, 0.0, spec.base_height]),
            base_quat=np.array([1.0, 0.0, 0.0, 0.0]),
            base_linvel=np.zeros(3),
            base_angvel=np.zeros(3),
            foot_contact=np.ones(2),
        )
        fields.update(overrides)
        return RobotState(**fields)

    return build
