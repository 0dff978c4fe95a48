"""Safety monitor: limit clamps, non-finite data and falls become typed events."""

from __future__ import annotations

import numpy as np

from control.safety import LIMIT_MARGIN, SafetyMonitor


def test_targets_are_clamped_inside_joint_limits(spec, make_state):
    mon = SafetyMonitor(spec)
    q_target = spec.default_q.copy()
    knee = spec.joint_names.index("left_knee")
    q_target[knee] = 5.0
    verdict = mon.check(make_state(), q_target)
    assert verdict.q_target[knee] == spec.q_upper[knee] - LIMIT_MARGIN
    assert np.all(verdict.q_target >= spec.q_lower) and np.all(verdict.q_target <= spec.q_upper)
    assert [e.kind for e in verdict.events] == ["target_clamped"]
    assert "left_knee" in verdict.events[0].detail
    assert not verdict.hold and not verdict.fallen


def test_in_range_targets_pass_unchanged(spec, make_state):
    verdict = SafetyMonitor(spec).check(make_state(), spec.default_q)
    np.testing.assert_array_equal(verdict.q_target, spec.default_q)
    assert verdict.events == ()


def test_nan_state_holds_the_last_safe_target(spec, make_state):
    mon = SafetyMonitor(spec)
    good = spec.default_q + 0.01
    mon.check(make_state(), good)
    q = spec.default_q.copy()
    q[3] = np.nan
    verdict = mon.check(make_state(q=q, sim_time=2.5), spec.default_q - 0.05)
    assert verdict.hold
    assert verdict.events[0].kind == "non_finite_state" and verdict.events[0].sim_time == 2.5
    np.testing.assert_allclose(verdict.q_target, good)


def test_nan_target_holds(spec, make_state):
    mon = SafetyMonitor(spec)
    target = spec.default_q.copy()
    target[0] = np.inf
    verdict = mon.check(make_state(), target)
    assert verdict.hold and verdict.events[-1].kind == "non_finite_target"
    assert spec.joint_names[0] in verdict.events[-1].detail
    assert np.all(np.isfinite(verdict.q_target))


def test_fall_detection(spec, make_state):
    mon = SafetyMonitor(spec)
    assert mon.check_state(make_state()) == []
    angle = 1.0  # rad about x, beyond the 0.8 rad limit
    tilted = make_state(base_quat=np.array([np.cos(angle / 2), np.sin(angle / 2), 0.0, 0.0]))
    events = mon.check_state(tilted)
    assert [e.kind for e in events] == ["fall"] and "tilt 1.00" in events[0].detail
    low = make_state(base_pos=np.array([0.0, 0.0, 0.3]))
    verdict = mon.check(low, spec.default_q)
    assert verdict.fallen and verdict.events[0].kind == "fall"
    slight = make_state(base_quat=np.array([np.cos(0.2), np.sin(0.2), 0.0, 0.0]))  # 0.4 rad
    assert mon.check_state(slight) == []
