"""A tiny training run goes end to end: env -> PPO -> ONNX -> runtime loader -> manifest."""

from __future__ import annotations

import shutil

import numpy as np
import onnxruntime as ort
import pytest
import torch

from control.observation import PolicyIO
from control.policy import FrozenPolicy
from control.train.env import StandEnv, StandEnvConfig
from control.train.export import DeployedActor, export_onnx
from control.train.ppo import PPOConfig
from control.train.train_stand import train, update_manifest
from humanoid.robot_spec import load_robot_spec


def test_training_env_observation_is_the_runtime_observation(spec, make_state):
    env = StandEnv(spec, StandEnvConfig(num_envs=2), seed=3)
    env.reset()
    obs, *_ = env.step(np.random.default_rng(0).uniform(-1, 1, (2, env.action_dim)))
    d = env.datas[1]
    state = make_state(
        q=d.qpos[env.qadr].copy(),
        qd=d.qvel[env.dadr].copy(),
        base_quat=d.qpos[3:7].copy(),
        base_angvel=d.qvel[3:6].copy(),
    )
    expected = env.io.build_observation(state, env.upper_ref[1], env.last_action[1])
    np.testing.assert_allclose(obs[1], expected, atol=1e-6)


def test_tiny_training_run_exports_a_loadable_matching_policy(spec, tmp_path):
    env_cfg = StandEnvConfig(num_envs=4, episode_s=1.0)
    ppo_cfg = PPOConfig(horizon=32, epochs=1, minibatches=2, hidden=(32, 32))
    result = train(spec, steps=256, seed=0, env_cfg=env_cfg, ppo_cfg=ppo_cfg, log=lambda _: None)
    assert result.env_steps >= 256
    io = PolicyIO(spec)

    # export into a copy of the robot folder, record it in that manifest, load it the runtime way
    robot = tmp_path / "robot"
    robot.mkdir()
    shutil.copy(spec.mjcf_path, robot / spec.mjcf_path.name)
    shutil.copy(spec.folder / "manifest.yaml", robot / "manifest.yaml")
    sha = export_onnx(result.ppo.model, io, robot / "policies" / "stand_test.onnx")
    update_manifest(robot / "manifest.yaml", "stand", "policies/stand_test.onnx", sha, "policies/stand_test.md")
    copied = load_robot_spec(robot)
    assert copied.policy("stand").sha256 == sha
    assert copied.joint_names == spec.joint_names and copied.action_scale == spec.action_scale
    policy = FrozenPolicy.from_spec(copied, "stand")

    deployed = DeployedActor(result.ppo.model, io.action_clip).eval()
    rng = np.random.default_rng(0)
    for _ in range(10):
        obs = rng.normal(scale=0.5, size=io.obs_dim).astype(np.float32)
        with torch.no_grad():
            expected = deployed(torch.as_tensor(obs)[None])[0].numpy()
        np.testing.assert_allclose(policy.act(obs), expected, atol=1e-4)


@pytest.mark.parametrize("before", ["policies: {}\n", "policies:\n  stand:\n    file: old.onnx\n    sha256: abc\n"])
def test_update_manifest_replaces_only_the_policies_entry(tmp_path, before):
    path = tmp_path / "manifest.yaml"
    path.write_text(f"name: r\n# comment\n{before}action_scale: 0.25\n")
    update_manifest(path, "stand", "policies/s.onnx", "f" * 64, "policies/s.md")
    text = path.read_text()
    assert text.startswith("name: r\n# comment\npolicies:\n  stand:\n    file: policies/s.onnx\n")
    assert text.endswith("model_card: policies/s.md\naction_scale: 0.25\n")


def test_warm_start_continues_the_shipped_actor(spec, tmp_path):
    """A standing run warm-started from an exported file begins as that file's policy: with the
    actor frozen for the critic's warm-up, the exported result acts exactly as the original."""
    env_cfg = StandEnvConfig(num_envs=4, episode_s=1.0)
    ppo_cfg = PPOConfig(horizon=32, epochs=1, minibatches=2, hidden=(32, 32))
    first = train(spec, steps=128, seed=0, env_cfg=env_cfg, ppo_cfg=ppo_cfg, log=lambda _: None)
    io = PolicyIO(spec)
    export_onnx(first.ppo.model, io, tmp_path / "a.onnx")
    second = train(
        spec, steps=128, seed=1, env_cfg=env_cfg, ppo_cfg=ppo_cfg, log=lambda _: None,
        warm_start=tmp_path / "a.onnx", critic_warmup_iters=100,
    )
    export_onnx(second.ppo.model, io, tmp_path / "b.onnx")
    obs = np.random.default_rng(0).normal(scale=0.5, size=(8, io.obs_dim)).astype(np.float32)
    run = lambda p: ort.InferenceSession(str(p)).run(None, {"obs": obs})[0]  # noqa: E731
    np.testing.assert_allclose(run(tmp_path / "b.onnx"), run(tmp_path / "a.onnx"), atol=1e-5)
