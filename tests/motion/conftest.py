"""Fixtures for the motion layer's tests: a fresh kitchen per module (physics tests patch
their own copy) and an executor over an unstepped simulator for planning-only tests."""

from __future__ import annotations

import numpy as np
import pytest
from motion_rig import make_rig

from motion.executor import SkillExecutor
from scenarios.world import build_world


@pytest.fixture
def fresh_kitchen(spec):
    """A kitchen of its own (tests here may patch its model), in the arm skills' home layout:
    the robot at the coffee corner and the user served on its counter, so an arm skill is tested
    without a walk before it (walking has its own tests: test_navigate_*)."""
    return build_world("kitchen", spec, start="robot_start", walking_ready=False)


@pytest.fixture
def rig(fresh_kitchen):
    """(world, sim, loop, executor, events) with the balance stand-in on the legs."""
    sim, loop = make_rig(fresh_kitchen)
    events: list[dict] = []
    ex = SkillExecutor(
        fresh_kitchen, loop, on_event=lambda kind, payload: events.append({"kind": kind, **payload})
    )
    ex.observe()
    return fresh_kitchen, sim, loop, ex, events


def move_object(sim, oid: str, xy: tuple[float, float]) -> None:
    """Put a free object somewhere else on its surface before a test starts."""
    import mujoco

    m = sim.model
    a = m.jnt_qposadr[m.joint(oid).id]
    sim.data.qpos[a : a + 2] = xy
    mujoco.mj_forward(m, sim.data)


@pytest.fixture
def place_object():
    return move_object


@pytest.fixture
def arm_pose_for(spec):
    """IK helper for tests: arm joints that put `side`'s grasp site at a point, hand pointing +x."""
    from motion.ik import ArmIK, IKTarget
    from motion.skills.base import approach_rot

    ik = ArmIK(spec)

    def solve(
        side: str, pos, yaw: float = 0.0, pitch: float = 0.35, base=(0.0, 0.0), model=None
    ) -> np.ndarray:
        """`model` (a CollisionModel) makes the pose collision-free as well."""
        accept = None
        if model is not None:
            q_now = model.arm_q(side)

            def accept(q):
                ok = model.arm_state_valid(side, q)
                model.set_arm(side, q_now)
                return ok

        res = ik.solve(
            side,
            IKTarget(
                spec.end_effectors[side].grasp_site, np.asarray(pos, dtype=float), approach_rot(yaw, pitch)
            ),
            spec.default_q,
            np.array([base[0], base[1], spec.base_height]),
            np.array([1.0, 0.0, 0.0, 0.0]),
            accept=accept,
        )
        assert res.ok, f"test setup: IK failed for {side} at {pos}"
        return res.q

    return solve
