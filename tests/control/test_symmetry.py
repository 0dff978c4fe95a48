"""The walking policy's mirror maps describe the real mirrored robot: checked against MuJoCo's
forward kinematics, the gravity reading and the gait reference, not against themselves."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
import torch

from control import gait
from control.observation import PolicyIO, projected_gravity
from control.train.env import build_training_model
from control.train.ppo import PPO, PPOConfig
from control.train.symmetry import REFLECT, joint_mirror, walk_mirrors


@pytest.fixture(scope="module")
def model(spec):
    return build_training_model(spec)


def _pose(model, spec, q, quat=(1.0, 0.0, 0.0, 0.0)):
    d = mujoco.MjData(model)
    adr = [model.jnt_qposadr[model.joint(n).id] for n in spec.joint_names]
    d.qpos[3:7] = quat
    d.qpos[adr] = q
    mujoco.mj_kinematics(model, d)
    return d


def test_mirrored_joints_mirror_every_body(spec, model):
    """Random joint angles, mirrored by the map, put every body and every shape where its mirror image was.

    Checked on centres of mass and shapes, not body origins only: the fingers share the hand's
    origin, and a name-based map that swapped the outer finger for the inner one passed that check.
    """
    m = joint_mirror(spec, model)
    rng = np.random.default_rng(0)
    q = spec.default_q + rng.uniform(-0.3, 0.3, spec.n_joints) * (spec.q_upper - spec.q_lower) / 2
    a, b = _pose(model, spec, q), _pose(model, spec, m(q))
    for what, first, xa, xb, name in (
        ("body", 1, a.xipos, b.xipos, lambda i: model.body(i).name),  # body 0 is the world
        ("geom", 0, a.geom_xpos, b.geom_xpos, lambda i: model.geom(i).name or str(i)),
    ):
        for i in range(first, len(xa)):
            found = np.all(np.abs(xb - xa[i] * REFLECT) < 1e-9, axis=1)
            assert found.any(), f"{what} {name(i)} has no mirror image in the mirrored pose"
    np.testing.assert_allclose(m(spec.default_q), spec.default_q, atol=1e-12)  # the default pose is symmetric
    np.testing.assert_allclose(m(m(q)), q)


def test_a_reachable_pose_mirrors_into_a_reachable_pose(spec, model):
    """Joint limits map onto joint limits: an open gripper mirrors into an open gripper, not a negative opening."""
    m = joint_mirror(spec, model)
    limits = np.stack([spec.q_lower, spec.q_upper])
    np.testing.assert_allclose(np.sort(m(limits), axis=0), limits, atol=1e-12)


def test_observation_map_matches_the_mirrored_state(spec, model):
    io = PolicyIO(spec, kind="walk")
    obs_map, act_map = walk_mirrors(io, model)
    rng = np.random.default_rng(1)
    jm = joint_mirror(spec, model)
    quat = np.array([0.98, 0.1, -0.15, 0.07])
    quat /= np.linalg.norm(quat)
    quat_m = quat * np.array([1.0, -1.0, 1.0, -1.0])  # the reflected orientation
    np.testing.assert_allclose(projected_gravity(quat_m), projected_gravity(quat) * REFLECT, atol=1e-12)
    gyro = rng.normal(size=3)
    q = spec.default_q + rng.normal(0, 0.1, spec.n_joints)
    qd = rng.normal(0, 1, spec.n_joints)
    ref = spec.default_q + rng.normal(0, 0.1, spec.n_joints)
    last = rng.normal(0, 1, io.action_dim)
    cmd = np.array([0.3, 0.1, -0.4])
    phase, amp = np.array(0.2), np.array(0.8)
    obs = io.build_observation_batch(
        quat[None], gyro[None], q[None], qd[None], ref[None], last[None], cmd[None],
        gait.gait_observation(phase, amp)[None],
    )[0]
    mirrored = io.build_observation_batch(
        quat_m[None], (gyro * -REFLECT)[None], jm(q)[None], jm(qd)[None], jm(ref)[None], act_map(last)[None],
        (cmd * np.array([1.0, -1.0, -1.0]))[None], gait.gait_observation(phase + 0.5, amp)[None],
    )[0]
    np.testing.assert_allclose(obs_map(obs), mirrored, atol=1e-5)
    # the stepping reference under the action is symmetric under the same maps
    ref_legs = gait.leg_reference(phase, amp, cmd)
    ref_legs_m = gait.leg_reference(phase + 0.5, amp, cmd * np.array([1.0, -1.0, -1.0]))
    np.testing.assert_allclose(act_map(ref_legs), ref_legs_m, atol=1e-12)


def test_symmetry_loss_makes_a_policy_symmetric(spec, model):
    """A few updates with only the symmetry term (zero advantages) shrink the policy's asymmetry."""
    io = PolicyIO(spec, kind="walk")
    obs_map, act_map = walk_mirrors(io, model)
    cfg = PPOConfig(horizon=8, epochs=60, minibatches=1, hidden=(32,), symmetry_coef=1.0, lr=3e-3, min_lr=3e-3)
    ppo = PPO(io.obs_dim, 2, io.action_dim, 16, cfg, mirror=(obs_map, act_map))
    torch.manual_seed(0)
    with torch.no_grad():
        ppo.model.actor[-1].weight.normal_(0, 0.5)  # an asymmetric start
    obs = torch.randn(16, io.obs_dim)

    def asymmetry() -> float:
        with torch.no_grad():
            mu = ppo.model.mean_action(obs)
            return float((mu - act_map(ppo.model.mean_action(obs_map(obs)))).square().mean())

    before = asymmetry()
    for _ in range(8):
        ppo.act(obs.numpy(), np.zeros((16, 2), dtype=np.float32))
        ppo.record(np.zeros(16), np.zeros(16, bool), np.zeros(16, bool), None, None)
    ppo.update(obs.numpy(), np.zeros((16, 2), dtype=np.float32))
    assert asymmetry() < 0.5 * before


def test_an_asymmetric_robot_is_refused(spec, model):
    m = mujoco.MjModel.from_xml_string(
        """<mujoco><worldbody><body name="b"><freejoint/><geom size="0.1"/>
        <body name="l" pos="0 0.1 0"><joint name="left_j" axis="1 0 0"/><geom size="0.05"/></body>
        <body name="r" pos="0 -0.1 0"><joint name="right_j" axis="0 1 0"/><geom size="0.05"/></body>
        </body></worldbody></mujoco>"""
    )

    class Spec:
        name, joint_names = "lopsided", ("left_j", "right_j")

    with pytest.raises(ValueError, match="no mirror image"):
        joint_mirror(Spec, m)


def test_a_mirror_averaged_policy_is_exactly_symmetric_in_training_and_in_its_file(spec, model, tmp_path):
    """A lopsided actor inside `ActorCritic(mirror=...)`: its training mean is symmetric, the
    exported file computes that same mean (what ships is what PPO optimised), the plain export
    of the same weights is lopsided (the test can fail), and a warm start reads the file back."""
    from control.policy import FrozenPolicy, file_sha256
    from control.train.export import export_onnx, is_mirror_averaged, load_deployed_actor
    from control.train.ppo import ActorCritic
    from humanoid.robot_spec import PolicyArtifact

    io = PolicyIO(spec, kind="walk")
    maps = walk_mirrors(io, model)
    obs_map, act_map = maps
    torch.manual_seed(1)
    plain_net = ActorCritic(io.obs_dim, 2, io.action_dim, PPOConfig(hidden=(32,)))
    with torch.no_grad():
        plain_net.actor[-1].weight.normal_(0, 0.5)  # far from symmetric
        plain_net.log_std[:3] += 0.5
    net = ActorCritic(io.obs_dim, 2, io.action_dim, PPOConfig(hidden=(32,)), mirror=maps)
    net.load_state_dict(plain_net.state_dict())
    obs = torch.as_tensor(np.random.default_rng(2).normal(0, 0.5, (8, io.obs_dim)), dtype=torch.float32)
    with torch.no_grad():
        torch.testing.assert_close(net.mean_action(obs_map(obs)), act_map(net.mean_action(obs)), atol=1e-6, rtol=0)
        torch.testing.assert_close(net.action_std(), act_map(net.action_std()).abs())
    plain, averaged = tmp_path / "plain.onnx", tmp_path / "averaged.onnx"
    export_onnx(plain_net, io, plain)
    export_onnx(net, io, averaged)
    assert is_mirror_averaged(averaged) and not is_mirror_averaged(plain)
    run = {p: FrozenPolicy(PolicyArtifact("walk", p, file_sha256(p), None), io) for p in (plain, averaged)}
    asym = lambda f: max(np.abs(f.act(o) - act_map(f.act(obs_map(o)))).max() for o in obs.numpy())  # noqa: E731
    assert asym(run[plain]) > 0.05
    assert asym(run[averaged]) < 1e-5
    with torch.no_grad():
        want = np.clip(net.mean_action(obs).numpy(), -io.action_clip, io.action_clip)
    np.testing.assert_allclose(np.stack([run[averaged].act(o) for o in obs.numpy()]), want, atol=1e-4)
    again = ActorCritic(io.obs_dim, 2, io.action_dim, PPOConfig(hidden=(32,)), mirror=maps)
    load_deployed_actor(again, averaged)
    np.testing.assert_allclose(again.actor[-1].weight.detach().numpy(), net.actor[-1].weight.detach().numpy())


def test_mirror_average_without_the_maps_is_refused(spec):
    with pytest.raises(ValueError, match="mirror maps"):
        PPO(10, 2, 4, 2, PPOConfig(mirror_average=True))


def test_mirror_average_refuses_a_missing_file(tmp_path):
    from control.train.mirror_average import main

    with pytest.raises(SystemExit, match="no such policy file"):
        main([str(tmp_path / "nope.onnx"), "--name", "x", "--out", str(tmp_path)])
