"""The observation/action layout: one definition, readable back term by term."""

from __future__ import annotations

import mujoco
import numpy as np

from control.observation import PolicyIO, projected_gravity, tilt_from_gravity


def test_sizes_follow_the_spec(spec, make_state):
    io = PolicyIO(spec)
    assert io.action_dim == 13  # 12 legs + waist
    assert [spec.joint_names[i] for i in io.controlled_idx][-1] == "waist_yaw"
    assert io.obs_dim == sum(t.size for t in io.terms)
    assert io.terms[-1].start + io.terms[-1].size == io.obs_dim


def test_observation_round_trip(spec, make_state):
    io = PolicyIO(spec)
    rng = np.random.default_rng(0)
    quat = rng.normal(size=4)
    quat /= np.linalg.norm(quat)
    state = make_state(
        q=spec.default_q + rng.uniform(-0.2, 0.2, spec.n_joints),
        qd=rng.uniform(-3, 3, spec.n_joints),
        base_quat=quat,
        base_angvel=np.array([0.1, -0.4, 0.7]),
    )
    upper_ref = spec.default_q + rng.uniform(-0.5, 0.5, spec.n_joints)
    last_action = rng.uniform(-1, 1, io.action_dim)
    obs = io.build_observation(state, upper_ref, last_action)
    assert obs.dtype == np.float32 and obs.shape == (io.obs_dim,)
    parts = io.split_observation(obs)
    np.testing.assert_allclose(parts["joint_pos"], state.q - spec.default_q, atol=1e-6)
    np.testing.assert_allclose(parts["joint_vel"], state.qd, atol=1e-4)
    np.testing.assert_allclose(parts["gyro"], state.base_angvel, atol=1e-6)
    np.testing.assert_allclose(parts["upper_ref"], (upper_ref - spec.default_q)[io.upper_idx], atol=1e-6)
    np.testing.assert_allclose(parts["last_action"], last_action, atol=1e-6)
    np.testing.assert_allclose(parts["projected_gravity"], projected_gravity(quat), atol=1e-6)


def test_projected_gravity_matches_mujoco():
    rng = np.random.default_rng(1)
    for _ in range(5):
        quat = rng.normal(size=4)
        quat /= np.linalg.norm(quat)
        conj, expected = np.zeros(4), np.zeros(3)
        mujoco.mju_negQuat(conj, quat)
        mujoco.mju_rotVecQuat(expected, np.array([0.0, 0.0, -1.0]), conj)
        np.testing.assert_allclose(projected_gravity(quat), expected, atol=1e-12)
    assert tilt_from_gravity(projected_gravity(np.array([1.0, 0, 0, 0]))) == 0.0


def test_targets_from_action(spec, make_state):
    io = PolicyIO(spec)
    upper_ref = spec.default_q + 0.1
    action = np.full(io.action_dim, 2.0)
    action[0] = 100.0  # beyond the clip
    q_target = io.targets_from_action(action, upper_ref)
    ctrl = io.controlled_idx
    expected = spec.default_q[ctrl] + spec.action_scale * 2.0
    expected[0] = spec.default_q[ctrl[0]] + spec.action_scale * io.action_clip
    np.testing.assert_allclose(q_target[ctrl], expected)
    np.testing.assert_allclose(q_target[io.upper_idx], upper_ref[io.upper_idx])
    # zero action holds the default pose on the controlled joints
    np.testing.assert_allclose(io.targets_from_action(np.zeros(io.action_dim), io.default_upper_ref()), spec.default_q)
