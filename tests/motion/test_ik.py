"""IK for one arm with mink: reaches what is reachable, says so when not, moves nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from motion.ik import POSITION_TOL_M, ArmIK, IKTarget
from motion.skills.base import approach_rot

BASE_POS = np.array([0.0, 0.0, 0.74])
BASE_QUAT = np.array([1.0, 0.0, 0.0, 0.0])


@pytest.fixture(scope="module")
def ik(spec):
    return ArmIK(spec)


def test_reaches_a_side_grasp_of_a_mug_on_the_counter(ik, spec):
    target = IKTarget("right_grasp", np.array([0.40, -0.12, 0.79]), approach_rot(0.0, 0.35))
    res = ik.solve("right", target, spec.default_q, BASE_POS, BASE_QUAT)
    assert res.ok and res.position_error < POSITION_TOL_M
    idx = spec.indices("right_arm")
    assert np.all(res.q >= spec.q_lower[idx]) and np.all(res.q <= spec.q_upper[idx])
    # the solution really puts the site there, with the other joints untouched
    q = spec.default_q.copy()
    q[idx] = res.q
    pos, rot = ik.forward("right", "right_grasp", res.q, q, BASE_POS, BASE_QUAT)
    assert np.linalg.norm(pos - target.pos) < POSITION_TOL_M
    assert np.allclose(rot, target.rot, atol=0.06)


def test_unreachable_target_returns_none_with_the_residual(ik, spec):
    res = ik.solve(
        "right", IKTarget("right_grasp", np.array([1.5, -0.2, 0.9])), spec.default_q, BASE_POS, BASE_QUAT
    )
    assert res.q is None
    assert res.position_error > 0.5  # ~0.9 m beyond reach
    assert res.attempts > 1  # the fixed seed list was tried


def test_same_query_same_answer(ik, spec):
    target = IKTarget("left_fingertip", np.array([0.55, 0.235, 0.95]), approach_rot(0.0, 0.0), free_axis=2)
    a = ik.solve("left", target, spec.default_q, BASE_POS, BASE_QUAT)
    b = ik.solve("left", target, spec.default_q, BASE_POS, BASE_QUAT)
    assert a.ok and np.array_equal(a.q, b.q)


def test_accept_can_veto_every_solution(ik, spec):
    target = IKTarget("right_grasp", np.array([0.40, -0.12, 0.79]), approach_rot(0.0, 0.35))
    res = ik.solve("right", target, spec.default_q, BASE_POS, BASE_QUAT, accept=lambda q: False)
    assert res.q is None and res.position_error < POSITION_TOL_M
