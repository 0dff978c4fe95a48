"""Walking in the control layer: training env = runtime observation, a tiny training run ships a
loadable walk policy, the stand/walk hand-over never jumps a joint target, bad commands are
clipped or refused."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from bridge.messages import MotionRequest
from bridge.sim_world import SimWorld
from control import gait
from control.locomotion import LocomotionController
from control.loop import ControlLoop, HoldController
from control.observation import PolicyIO
from control.policy import FrozenPolicy, PolicyShapeError, file_sha256
from control.train.env import StandEnv, StandEnvConfig
from control.train.export import export_onnx, is_mirror_averaged
from control.train.overrides import config_overrides
from control.train.ppo import PPOConfig
from control.train.train_stand import update_manifest
from control.train.train_walk import train
from control.train.walk_env import WalkEnv, WalkEnvConfig
from humanoid.robot_spec import PolicyArtifact, load_robot_spec


@pytest.fixture(scope="module")
def tiny_walk_robot(tmp_path_factory):
    """A copy of the reference robot whose manifest lists a walk policy from a 2-iteration run."""
    spec = load_robot_spec()
    cfg = WalkEnvConfig(num_envs=4, episode_s=1.0, threads=1)
    result = train(spec, 128, 0, cfg, PPOConfig(horizon=16, epochs=1, minibatches=2, hidden=(32, 32)), log=lambda _: None)
    folder = tmp_path_factory.mktemp("robot")
    shutil.copytree(spec.folder, folder, dirs_exist_ok=True)
    sha = export_onnx(result.ppo.model, PolicyIO(spec, kind="walk"), folder / "policies" / "walk_test.onnx")
    update_manifest(folder / "manifest.yaml", "walk", "policies/walk_test.onnx", sha, "policies/walk_test.md")
    return load_robot_spec(folder)


def test_training_env_observation_is_the_runtime_observation(spec, make_state):
    env = WalkEnv(spec, WalkEnvConfig(num_envs=2, threads=1), seed=3)
    try:
        env.reset()
        env.command[:] = (0.3, 0.0, 0.2)
        obs, *_ = env.step(np.random.default_rng(0).uniform(-1, 1, (2, env.action_dim)))
        s = env._read()
        state = make_state(q=s["q"][1], qd=s["qd"][1], base_quat=s["base_quat"][1], base_angvel=s["gyro"][1])
        g = gait.gait_observation(env.phase[1], env.amplitude[1])
        expected = env.io.build_observation(state, env.upper_ref[1], env.last_action[1], env.command[1], g)
        np.testing.assert_allclose(obs[1], expected, atol=1e-5)
    finally:
        env.close()


def test_training_walks_with_the_grippers_as_the_product_uses_them(spec):
    """The product walks with the grippers open (the default) or closed on a mug: the training
    env must show the policy both finger references, or it sees them first in the kitchen."""
    env = WalkEnv(spec, WalkEnvConfig(num_envs=16, threads=1, arm_change_prob=0.5), seed=1)
    fingers = spec.indices(("left_gripper", "right_gripper"))
    seen = []
    try:
        env.reset()
        seen.append(env.upper_ref[:, fingers].copy())
        for _ in range(5):
            env.step(np.zeros((16, env.action_dim)))
            seen.append(env.upper_ref[:, fingers].copy())
    finally:
        env.close()
    refs = np.concatenate(seen)
    assert np.all(refs >= spec.q_lower[fingers] - 1e-9) and np.all(refs <= spec.q_upper[fingers] + 1e-9)
    assert np.isclose(refs, spec.q_upper[fingers]).all(axis=1).mean() > 0.3  # open, as the product starts
    assert np.isclose(refs, spec.q_lower[fingers]).all(axis=1).any()  # closed


def test_walk_policy_of_the_wrong_layout_refuses_to_load(spec, tmp_path):
    stand = spec.policy("stand")  # a 99-input standing policy offered as the 104-input walker
    with pytest.raises(PolicyShapeError, match="observation size 104"):
        FrozenPolicy(PolicyArtifact("walk", stand.path, stand.sha256, None), PolicyIO(spec, kind="walk"))


def test_hand_over_between_stand_and_walk_never_jumps_a_target(tiny_walk_robot, make_state):
    spec = tiny_walk_robot
    legs = LocomotionController(spec)
    state = make_state()
    upper = spec.default_q.copy()
    modes, targets = [], []
    for k in range(150):  # stand 0.6 s, walk 1 s, then stand again
        cmd = np.array([0.4, 0.0, 0.0]) if 30 <= k < 80 else np.zeros(3)
        targets.append(legs.targets(state, upper, cmd))
        modes.append(legs.mode)
    assert modes[0] == "stand" and "walk" in modes and modes[-1] == "stand"
    leg_idx = spec.indices(("legs", "waist"))
    jumps = np.abs(np.diff(np.array(targets)[:, leg_idx], axis=0)).max(axis=1)
    assert jumps.max() < 0.1, f"largest leg target change in one period: {jumps.max():.3f} rad"


def test_standing_policy_takes_over_only_once_the_robot_is_at_rest(tiny_walk_robot, make_state):
    """The standing policy cannot step: a robot still sliding after the stepping stopped stays on
    the walking policy until it is at rest, or at most `SETTLE_MAX_S`."""
    from control import locomotion

    spec = tiny_walk_robot
    upper = spec.default_q.copy()

    def periods_to_hand_over(speed_mps: float) -> int:
        legs = LocomotionController(spec)
        for _ in range(25):
            legs.targets(make_state(), upper, np.array([0.3, 0.0, 0.0]))
        assert legs.mode == "walk"
        sliding = make_state(base_linvel=np.array([speed_mps, 0.0, 0.0]))
        for k in range(1, 500):
            legs.targets(sliding, upper, np.zeros(3))
            if legs.mode == "stand":
                return k
        return -1

    dt = 1.0 / spec.control_rate_hz
    at_rest, sliding = periods_to_hand_over(0.0), periods_to_hand_over(0.3)
    # at rest: the command and the stepping ramp out (~0.7 s), then SETTLE_S standing still
    assert 0 < at_rest * dt < 0.8 + locomotion.SETTLE_S + 0.1
    # still sliding: it waits the whole SETTLE_MAX_S after the stepping ramped out
    assert sliding * dt >= locomotion.SETTLE_MAX_S
    assert sliding > at_rest


def test_commands_outside_the_trained_range_are_clipped_and_reported(tiny_walk_robot, kitchen):
    spec = tiny_walk_robot
    loop = ControlLoop(spec, SimWorld(kitchen), LocomotionController(spec))
    req = MotionRequest(seq=1, times=np.zeros(0), arm_q=np.zeros((0, 14)), gripper=np.zeros((0, 2)), settle_s=0.1,
                        base_velocity=np.array([2.0, 0.0, -3.0]))
    res = loop.execute(req)
    clipped = [e for e in res.safety_events if e["kind"] == "command_clipped"]
    assert clipped and "[0.6, 0.0, -0.8]" in clipped[0]["detail"]
    assert res.telemetry[-1]["base_vel_cmd"] == [0.6, 0.0, -0.8]


def test_a_robot_without_a_walking_policy_refuses_to_walk(spec, kitchen):
    loop = ControlLoop(spec, SimWorld(kitchen), HoldController(spec))
    req = MotionRequest(seq=1, times=np.zeros(0), arm_q=np.zeros((0, 14)), gripper=np.zeros((0, 2)), settle_s=0.1,
                        base_velocity=np.array([0.3, 0.0, 0.0]))
    res = loop.execute(req)
    assert res.status == "rejected" and "walking policy" in res.detail
    bad = MotionRequest(seq=2, times=np.zeros(0), arm_q=np.zeros((0, 14)), gripper=np.zeros((0, 2)), settle_s=0.1,
                        base_velocity=np.array([np.nan, 0.0, 0.0]))
    assert "finite" in loop.execute(bad).detail


def test_warm_start_continues_the_shipped_actor_as_the_same_policy(spec, tmp_path):
    """--warm-start loads a shipped file's actor; while the critic warms up the actor is not
    touched (the export is the same policy, mirror average included), and after it training moves it."""
    shipped = spec.policy("walk").path
    io = PolicyIO(spec, kind="walk")
    cfg = WalkEnvConfig(num_envs=4, episode_s=1.0, threads=1)
    ppo_cfg = PPOConfig(horizon=8, epochs=1, minibatches=2, init_std=0.2, mirror_average=is_mirror_averaged(shipped))
    frozen = train(spec, 64, 0, cfg, ppo_cfg, log=lambda _: None, warm_start=shipped, critic_warmup_iters=2)
    out = export_onnx(frozen.ppo.model, io, tmp_path / "again.onnx")
    assert is_mirror_averaged(tmp_path / "again.onnx") == is_mirror_averaged(shipped)
    obs = np.random.default_rng(0).normal(0, 0.5, (16, io.obs_dim)).astype(np.float32)
    a = FrozenPolicy(PolicyArtifact("walk", shipped, spec.policy("walk").sha256, None), io)
    b = FrozenPolicy(PolicyArtifact("walk", tmp_path / "again.onnx", out, None), io)
    for o in obs:
        np.testing.assert_allclose(b.act(o), a.act(o), atol=1e-4)  # float32 round trip of the normaliser
    lines: list[str] = []
    moved = train(spec, 64, 0, cfg, ppo_cfg, log=lines.append, warm_start=shipped, critic_warmup_iters=1)
    assert any("critic warm-up" in ln for ln in lines) and any("warm-up" not in ln for ln in lines if ln.startswith("it "))
    export_onnx(moved.ppo.model, io, tmp_path / "moved.onnx")
    c = FrozenPolicy(PolicyArtifact("walk", tmp_path / "moved.onnx", file_sha256(tmp_path / "moved.onnx"), None), io)
    assert max(float(np.abs(c.act(o) - a.act(o)).max()) for o in obs) > 1e-4


def test_a_mirror_averaged_file_does_not_warm_start_a_plain_policy(spec, tmp_path):
    """Continuing walk_v5's inner actor without the average would silently ship another policy."""
    from control.train.mirror_average import mirror_average

    averaged = tmp_path / "averaged.onnx"
    mirror_average(spec, spec.policy("walk").path, averaged)
    cfg = WalkEnvConfig(num_envs=2, episode_s=1.0, threads=1)
    with pytest.raises(ValueError, match="mirror-averaged"):
        train(spec, 16, 0, cfg, PPOConfig(horizon=8), log=lambda _: None, warm_start=averaged)


def test_warm_start_from_a_file_of_another_network_is_a_clear_error(spec, tmp_path):
    cfg = WalkEnvConfig(num_envs=2, episode_s=1.0, threads=1)
    with pytest.raises(ValueError, match="not an actor exported"):
        train(spec, 16, 0, cfg, PPOConfig(horizon=8, hidden=(32,)), log=lambda _: None, warm_start=spec.policy("walk").path)


def test_a_candidate_policy_file_is_pinned_to_its_hash_when_swapped_in(spec, tmp_path):
    """`with_policy_file` (the benchmarks' --policy) pins the file as it is: a change after that
    is refused by the runtime like any tampered file."""
    from humanoid.robot_spec import SpecError

    cand = tmp_path / "walk_candidate.onnx"
    shutil.copy(spec.policy("walk").path, cand)
    swapped = spec.with_policy_file("walk", cand)
    assert swapped.policy("walk").sha256 == spec.policy("walk").sha256 and spec.policy("walk").path != cand
    FrozenPolicy.from_spec(swapped, "walk")  # loads
    cand.write_bytes(cand.read_bytes() + b"\0")
    with pytest.raises(Exception, match="sha256"):
        FrozenPolicy.from_spec(swapped, "walk")
    with pytest.raises(SpecError, match="no file"):
        spec.with_policy_file("walk", tmp_path / "missing.onnx")


def test_env_overrides_take_known_fields_of_the_right_kind_and_name_the_mistake():
    assert config_overrides(WalkEnvConfig, ["no_lateral_prob=0", "push_force_n=(10, 40.5)"]) == {
        "no_lateral_prob": 0.0,
        "push_force_n": (10, 40.5),
    }
    for bad, says in (
        ("no_lateral_prob", "expected FIELD=VALUE"),
        ("rewards=()", "FIELD one of"),
        ("no_such_field=1", "no_lateral_prob"),
        ("no_lateral_prob=high", "not a number or tuple"),
        ("push_force_n=5.0", "takes a value like (20.0, 80.0)"),
        ("push_force_n=(1.0, 2.0, 3.0)", "takes a value like"),
    ):
        with pytest.raises(SystemExit, match=says.replace("(", r"\(").replace(")", r"\)")):
            config_overrides(WalkEnvConfig, [bad])


def _walk_env(spec):
    cfg = WalkEnvConfig(
        num_envs=1, episode_s=2.0, threads=1, action_delay_prob=0.0, zero_command_prob=1.0, arm_change_prob=0.0,
        push_force_n=(0.0, 0.0),
    )
    return WalkEnv(spec, cfg, seed=5), lambda env: env.state[0]


def _stand_env(spec):
    cfg = StandEnvConfig(num_envs=1, episode_s=2.0, action_delay_prob=0.0, still_arm_prob=1.0, push_force_n=(0.0, 0.0))
    return StandEnv(spec, cfg, seed=5), lambda env: np.concatenate([env.datas[0].qpos, env.datas[0].qvel])


@pytest.mark.parametrize("make_env", [_walk_env, _stand_env], ids=["walk_env", "stand_env"])
def test_command_latency_holds_the_previous_targets(spec, make_env):
    """An env whose commands arrive a whole period late follows (a0, a0) for actions (a0, a1):
    the same physics as an env without latency given (a0, a0), and not that of (a0, a1). Told to
    stand, with the arms still and no pushes, so that the reference under the action is constant."""
    (late, state), (prompt, _), (other, _) = (make_env(spec) for _ in range(3))
    for env in (late, prompt, other):
        env.reset()
    late.delay_substeps[:] = late.substeps
    a0 = np.full((1, late.action_dim), 0.3)
    a1 = -a0
    for env, actions in ((late, (a0, a1)), (prompt, (a0, a0)), (other, (a0, a1))):
        for a in actions:
            env.step(a)
    np.testing.assert_allclose(state(late), state(prompt), atol=1e-9)
    assert np.abs(state(late) - state(other)).max() > 1e-3
    for env in (late, prompt, other):
        getattr(env, "close", lambda: None)()


def test_a_checkpoint_exports_as_the_policy_the_run_would_ship(spec, tmp_path):
    """`control.train.checkpoint_onnx`: a run's checkpoint gives the same actor as the run's own export."""
    from control.train.checkpoint_onnx import export_walk_checkpoint

    cfg = WalkEnvConfig(num_envs=4, episode_s=1.0, threads=1)
    from dataclasses import replace

    from control.train.train_walk import walk_ppo_config

    ppo_cfg = replace(walk_ppo_config(), horizon=16, epochs=1, minibatches=2)  # the network train_walk builds
    ck = tmp_path / "ck.pt"
    result = train(spec, 64, 0, cfg, ppo_cfg, log=lambda _: None, checkpoint=ck)
    io = PolicyIO(spec, kind="walk")
    export_onnx(result.ppo.model, io, tmp_path / "end.onnx")
    sha, counters = export_walk_checkpoint(spec, ck, tmp_path / "ck.onnx")
    assert counters["env_steps"] == result.env_steps
    a = FrozenPolicy(PolicyArtifact("walk", tmp_path / "end.onnx", file_sha256(tmp_path / "end.onnx"), None), io)
    b = FrozenPolicy(PolicyArtifact("walk", tmp_path / "ck.onnx", sha, None), io)
    obs = np.random.default_rng(0).normal(size=io.obs_dim).astype(np.float32)
    np.testing.assert_allclose(a.act(obs), b.act(obs), atol=1e-5)
    import torch

    torch.save([1, 2, 3], tmp_path / "other.pt")
    with pytest.raises(SystemExit, match="not a train_walk checkpoint"):
        export_walk_checkpoint(spec, tmp_path / "other.pt", tmp_path / "x.onnx")


def test_the_shipped_walking_policy_comes_to_rest_after_a_stop_from_a_fast_walk(spec):
    """`train_walk.speed_after_stop`, a column of every walking card: walk_v7/v8 walked on at
    0.13-0.28 m/s 3 s after such a stop; the shipped policy must be at rest by then."""
    from control.train.train_walk import batch_act_fn, reference_only_act_fn, speed_after_stop

    io = PolicyIO(spec, kind="walk")
    assert speed_after_stop(spec, batch_act_fn(FrozenPolicy(spec.policy("walk"), io)), seed=1) < 0.08
    # the stepping reference alone falls while walking: nothing left to measure
    assert np.isnan(speed_after_stop(spec, reference_only_act_fn(io.action_dim), seed=1))
