"""Train, export, evaluate and register the walking policy in one command.

    python -m control.train.train_walk --steps 8000000 --seed 0 --out robots/reference_humanoid/policies

One progress line per PPO iteration (steps, steps/s, return, velocity tracking error, fall
rate, curriculum difficulty), a checkpoint every 20 iterations (`--checkpoint`, resumable
with `--resume`), then `<name>.onnx` + model card `<name>.md` in --out, an evaluation of the
exported file through the runtime loader against the gait reference alone (zero action),
and the sha256 recorded in the robot manifest under `policies.walk`. A person reviews the
card before the policy is used (DESIGN.md: training only ever produces a new artifact).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections import deque
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
import torch

from control import gait
from control.observation import PolicyIO
from control.policy import FrozenPolicy
from control.train.env import build_training_model
from control.train.export import OPSET, export_onnx, load_deployed_actor
from control.train.overrides import config_overrides
from control.train.ppo import PPO, PPOConfig
from control.train.symmetry import walk_mirrors
from control.train.train_stand import _cpu_name, update_manifest
from control.train.walk_env import WalkEnv, WalkEnvConfig
from humanoid.robot_spec import PolicyArtifact, RobotSpec, load_robot_spec

CURRICULUM_EVERY = 10  # iterations between curriculum decisions
CURRICULUM_STEP = 0.05


def walk_ppo_config() -> PPOConfig:
    # mirror_average: the robot is left-right symmetric, so the policy is made so by construction
    # (a symmetry loss alone left walk_v2/v4 turning one way only; docs/walking.md)
    # wider exploration than standing (stepping needs it); shorter horizon, more envs
    # (bigger minibatches than standing: 64 envs x 32 steps / 2; small ones made the KL rule stall)
    return PPOConfig(
        horizon=32, epochs=4, minibatches=2, lr=5e-4, desired_kl=0.02, init_std=0.5, entropy_coef=0.005,
        obs_var_floor=1e-2, mirror_average=True,
    )


@dataclass
class TrainResult:
    ppo: PPO
    env_steps: int
    iterations: int
    wall_s: float
    final_difficulty: float
    log_tail: list[str]


def train(
    spec: RobotSpec,
    steps: int,
    seed: int,
    env_cfg: WalkEnvConfig,
    ppo_cfg: PPOConfig,
    log=print,
    checkpoint: Path | None = None,
    resume: Path | None = None,
    max_wall_s: float | None = None,
    curriculum: bool = True,
    warm_start: Path | None = None,
    critic_warmup_iters: int = 0,
) -> TrainResult:
    """`warm_start`: a shipped walking policy's ONNX file whose actor training continues (at
    full difficulty; the critic first learns alone for `critic_warmup_iters` iterations)."""
    torch.manual_seed(seed)
    env = WalkEnv(spec, env_cfg, seed=seed)
    wants_mirror = ppo_cfg.symmetry_coef > 0.0 or ppo_cfg.mirror_average
    mirror = walk_mirrors(env.io, build_training_model(spec)) if wants_mirror else None
    ppo = PPO(env.obs_dim, env.priv_dim, env.action_dim, env.num_envs, ppo_cfg, mirror=mirror)
    env_steps, it = 0, 0
    if curriculum:
        env.difficulty = 0.0
    if warm_start is not None:
        load_deployed_actor(ppo.model, warm_start)
        env.difficulty = 1.0
        log(f"actor warm-started from {warm_start}; critic alone for {critic_warmup_iters} iterations")
    if resume is not None:
        ck = torch.load(resume, weights_only=False)
        ppo.model.load_state_dict(ck["model"])
        env_steps, it, env.difficulty = ck["env_steps"], ck["iterations"], ck["difficulty"]
        log(f"resumed from {resume}: {env_steps} steps, iteration {it}, difficulty {env.difficulty:.2f}")
    obs, priv = env.reset()
    returns: deque[float] = deque(maxlen=100)
    track: deque[float] = deque(maxlen=100)
    falls: deque[bool] = deque(maxlen=60)
    tail: deque[str] = deque(maxlen=5)
    t0 = time.perf_counter()
    wall = 0.0
    window: list[bool] = []  # falls of the episodes ended since the last curriculum change
    info_episodes: list[dict] = []

    def save() -> None:
        if checkpoint is not None:
            checkpoint.parent.mkdir(parents=True, exist_ok=True)
            state = {"model": ppo.model.state_dict(), "env_steps": env_steps, "iterations": it, "difficulty": env.difficulty}
            torch.save(state, checkpoint)

    try:
        while env_steps < steps:
            t_it = time.perf_counter()
            for _ in range(ppo_cfg.horizon):
                action = ppo.act(obs, priv)
                obs, priv, reward, term, trunc, info = env.step(action)
                ppo.record(reward, term, trunc, info["final_obs"], info["final_priv"])
                info_episodes += info["episodes"]
                for ep in info["episodes"]:
                    returns.append(ep["return"] / max(ep["length"], 1))
                    falls.append(ep["fell"])
                    if ep["track_rms"] is not None:
                        track.append(ep["track_rms"])
            ppo.actor_frozen = warm_start is not None and it < critic_warmup_iters
            stats = ppo.update(obs, priv)
            fall_rate = float(np.mean(falls)) if falls else 1.0
            window += [ep["fell"] for ep in info_episodes]
            info_episodes.clear()
            if curriculum and it % CURRICULUM_EVERY == 0 and len(window) >= 20:
                # judged on the episodes that ended since the last change only: 20 s episodes
                # lag, and a fast ramp outran the policy once (falls 0.15 -> 0.93 in 30 iterations)
                rate = float(np.mean(window))
                step = CURRICULUM_STEP if rate < 0.25 else -CURRICULUM_STEP if rate > 0.5 else 0.0
                env.difficulty = float(np.clip(env.difficulty + step, 0.0, 1.0))
                window.clear()
            it += 1
            env_steps += ppo_cfg.horizon * env.num_envs
            wall = time.perf_counter() - t0
            sps = ppo_cfg.horizon * env.num_envs / (time.perf_counter() - t_it)
            ret = f"{np.mean(returns):6.2f}" if returns else "   n/a"
            trk = f"{np.mean(track):5.3f}" if track else "  n/a"
            line = (
                f"it {it:5d} | steps {env_steps:9d} | {sps:5.0f} steps/s | wall {wall / 60:5.1f} min | "
                f"reward/step {ret} | track rms {trk} m/s | fall {fall_rate:4.2f} | difficulty {env.difficulty:.2f} | "
                f"std {stats['std']:.3f} | kl {stats['kl']:.4f} | lr {stats['lr']:.1e}"
                + (f" | sym {stats['symmetry']:.4f}" if ppo_cfg.symmetry_coef > 0.0 else "")
                + (" | critic warm-up" if ppo.actor_frozen else "")
            )
            log(line)
            tail.append(line)
            if it % 20 == 0:
                save()
            if max_wall_s is not None and wall > max_wall_s:
                log(f"stopping: wall-clock budget {max_wall_s / 60:.0f} min reached at {env_steps} steps")
                break
    finally:
        save()
        env.close()
    return TrainResult(ppo, env_steps, it, wall, env.difficulty, list(tail))


@dataclass
class WalkEval:
    episodes: int
    seconds: float
    fall_rate: float
    track_rms: float  # velocity tracking error while a motion is commanded (m/s)
    yaw_rate_rms: float  # yaw-rate tracking error while commanded (rad/s)
    stand_drift_m_s: float  # mean base speed while commanded to stand still
    sim_over_wall: float
    after_stop_m_s: float = float("nan")  # see `speed_after_stop`


def evaluate(spec: RobotSpec, act_fn, episodes: int, seconds: float, seed: int, difficulty: float = 1.0) -> WalkEval:
    """`episodes` parallel episodes with random commands, pushes and arm motion; first episode per env."""
    cfg = WalkEnvConfig(num_envs=episodes, episode_s=seconds, difficulty=difficulty)
    env = WalkEnv(spec, cfg, seed=seed)
    obs, _ = env.reset()
    alive = np.ones(episodes, dtype=bool)
    fell = np.zeros(episodes, dtype=bool)
    sq_v, n_v, sq_w, n_w, still_speed, n_still = 0.0, 0, 0.0, 0, 0.0, 0
    t0 = time.perf_counter()
    try:
        for _ in range(env.max_steps):
            cmd = env.command.copy()
            obs, _, _, term, _, info = env.step(act_fn(obs))
            live = alive & ~term
            moving = gait.wants_motion(cmd) & live
            still = ~gait.wants_motion(cmd) & live
            v = info["base_vel"]
            sq_v += float(np.square(cmd[moving, :2] - v[moving, :2]).sum())
            n_v += int(moving.sum())
            w = env.sensordata[:, env._sens["imu_gyro"]][:, 2]  # yaw rate, base frame
            sq_w += float(np.square(cmd[moving, 2] - w[moving]).sum())
            n_w += int(moving.sum())
            still_speed += float(np.linalg.norm(v[still, :2], axis=1).sum())
            n_still += int(still.sum())
            fell |= alive & term
            alive &= ~term
    finally:
        env.close()
    wall = time.perf_counter() - t0
    return WalkEval(
        episodes=episodes,
        seconds=seconds,
        fall_rate=float(fell.mean()),
        track_rms=float(np.sqrt(sq_v / max(n_v, 1))),
        yaw_rate_rms=float(np.sqrt(sq_w / max(n_w, 1))),
        stand_drift_m_s=still_speed / max(n_still, 1),
        sim_over_wall=episodes * seconds / wall,
        after_stop_m_s=speed_after_stop(spec, act_fn, seed),
    )


def speed_after_stop(spec: RobotSpec, act_fn, seed: int, robots: int = 8, walk_s: float = 3.0) -> float:
    """Mean pelvis speed 2-3 s after a stop order that follows `walk_s` at 0.5 m/s (no pushes;
    robots that fell do not count; nan if all fell).

    The drift at zero command averages all stand-still time, most of it not after a fast walk,
    and hid that walk_v7 and walk_v8 walk on for over a metre after such a stop (0.13-0.28 m/s
    3 s later; walk_v6 0.01-0.04), so the standing policy is handed a moving robot."""
    cfg = WalkEnvConfig(
        num_envs=robots, threads=1, push_force_n=(0.0, 0.0), arm_change_prob=0.0, payload_kg=(0.0, 0.0),
        action_delay_prob=0.0, episode_s=walk_s + 4.0,
    )
    env = WalkEnv(spec, cfg, seed=seed)
    obs, _ = env.reset()
    env.next_command[:] = np.inf  # the order below is the only one
    env.next_push[:] = np.inf
    env.target_command[:] = (0.5, 0.0, 0.0)
    fell = np.zeros(robots, dtype=bool)
    speeds = []
    try:
        for k in range(int(round((walk_s + 3.0) / env.dt))):
            t = k * env.dt
            if t >= walk_s:
                env.target_command[:] = 0.0
            obs, _, _, term, _, info = env.step(act_fn(obs))
            fell |= term
            if t >= walk_s + 2.0:
                speeds.append(np.linalg.norm(info["base_vel"][:, :2], axis=1))
    finally:
        env.close()
    if fell.all():
        return float("nan")
    return float(np.mean(np.array(speeds)[:, ~fell]))


def batch_act_fn(policy: FrozenPolicy):
    return lambda obs: np.stack([policy.act(o) for o in obs])


def reference_only_act_fn(action_dim: int):
    return lambda obs: np.zeros((obs.shape[0], action_dim))


EVAL_HEADER = (
    "| controller | fall rate | velocity tracking RMS (m/s) | yaw-rate RMS (rad/s) | drift at zero command (m/s) "
    "| speed 2-3 s after a stop from 0.5 m/s | sim/wall |\n|---|---|---|---|---|---|---|"
)


def eval_row(label: str, e: WalkEval) -> str:
    """One row of a model card's evaluation table (columns: `EVAL_HEADER`)."""
    return (
        f"| {label} | {e.fall_rate:.2f} | {e.track_rms:.3f} | {e.yaw_rate_rms:.3f} | {e.stand_drift_m_s:.3f} "
        f"| {e.after_stop_m_s:.3f} | {e.sim_over_wall:.1f} |"
    )


def write_model_card(
    path: Path, *, name: str, command: str, seed: int, result: TrainResult, sha256: str, io: PolicyIO,
    env_cfg: WalkEnvConfig, ppo_cfg: PPOConfig, evals: list[tuple[str, WalkEval]], eval_seed: int,
    resumed_from: Path | None = None,
) -> None:
    rows = "\n".join(eval_row(label, e) for label, e in evals)
    layout = "\n".join(f"| {t.start}-{t.start + t.size - 1} | {t.name} | {t.size} | {t.scale:g} |" for t in io.terms)
    rewards = "\n".join(f"| {r.name} | {r.weight:g} | {r.params or ''} |" for r in env_cfg.rewards)
    env_rows = "\n".join(f"- `{f.name}`: {getattr(env_cfg, f.name)}" for f in fields(WalkEnvConfig) if f.name != "rewards")
    ppo_rows = ", ".join(f"{f.name}={getattr(ppo_cfg, f.name)}" for f in fields(PPOConfig))
    ctrl = ", ".join(io.spec.joint_names[i] for i in io.controlled_idx)
    tail = "\n".join(result.log_tail)
    lo, hi = gait.COMMAND_LOW, gait.COMMAND_HIGH
    text = f"""# Model card: {name} (walking, {io.spec.name})

Frozen RL execution layer policy: follows base velocity commands (vx, vy, wz in the heading
frame) and stands still at zero command, while the motion layer holds or moves the arms.
Loaded read-only by `control.policy.FrozenPolicy`, which checks the sha256 below against the manifest.

- file: `{name}.onnx`, sha256 `{sha256}`
- ONNX opset {OPSET}; input `obs` float32 (batch, {io.obs_dim}); output `action` float32 (batch, {io.action_dim})
- inside the graph: observation normalisation (frozen), MLP mean action, clip +-{io.action_clip:g}
- layout signature: `{io.signature()}`
- trained command ranges: vx {lo[0]:g}..{hi[0]:g} m/s, vy {lo[1]:g}..{hi[1]:g} m/s, wz {lo[2]:g}..{hi[2]:g} rad/s
  (the runtime clips anything outside and logs it)

## How it was made
- command: `{command}`{_resume_note(resumed_from)}
- seed: {seed}; env steps: {result.env_steps} ({result.iterations} PPO iterations); training wall time:
  {result.wall_s / 60:.1f} min; curriculum difficulty reached: {result.final_difficulty:.2f}
- hardware: {_cpu_name()}, {env_cfg.threads} MuJoCo rollout threads, 1 torch thread, no GPU;
  Python {platform.python_version()}, torch {torch.__version__}
- algorithm: PPO (clipped, GAE, adaptive-KL step size), asymmetric actor-critic (critic also sees base
  velocity, height, push force, payload, friction, feet heights and positions); {ppo_cfg.hidden} ELU MLPs
- PPO config: {ppo_rows}
- structure: the action is a correction on top of a phase-clock stepping reference
  (`control/gait.py`: period {gait.PERIOD_S:g} s, swing hip flexion {gait.SWING_HIP_RAD:g} rad, amplitude
  ramped over {gait.RAMP_S:g} s between standing and stepping); legs only, waist held, arms follow the
  motion layer's references{_mirror_note(ppo_cfg)}

Last progress lines:
```
{tail}
```

## Evaluation ({evals[0][1].episodes} episodes of {evals[0][1].seconds:g} s, eval seed {eval_seed})
Random commands resampled every {env_cfg.command_interval_s} s ({env_cfg.zero_command_prob:.0%} stand still),
pushes of {env_cfg.push_force_n} N x difficulty on pelvis/torso every {env_cfg.push_interval_s} s, arm moves over
{env_cfg.arm_range_fraction:.0%} of their ranges, payload {env_cfg.payload_kg} kg on one hand. The policy runs
through the runtime path (`FrozenPolicy` on the exported file); the baseline is the gait reference alone
(zero action). Fall = tilt > 0.8 rad or pelvis below 0.45 m (`control.safety`).

{EVAL_HEADER}
{rows}

## Observation layout (`control/observation.py`, kind "walk")
| index | term | size | scale |
|---|---|---|---|
{layout}

## Action
{io.action_dim} values, clipped to +-{io.action_clip:g}, for: {ctrl}.
q_target = default_q + gait reference + {io.action_scale:g} * action on the legs; waist at its default;
arms and grippers follow `upper_ref`. PD on the robot side (manifest gains), policy at {io.spec.control_rate_hz:g} Hz.

## Training environment (`control/train/walk_env.py`)
{env_rows}

| reward term | weight | params |
|---|---|---|
{rewards}

## Known limits
- Flat floor, robot alone: kitchen contacts and steps are unseen.
- Small CPU budget; the numbers above come from this one seed.
"""
    path.write_text(text)


def _mirror_note(ppo_cfg: PPOConfig) -> str:
    if not ppo_cfg.mirror_average:
        return ""
    return (
        "\n- symmetry: the policy mean is the actor averaged with its mirror image, in training and in the file\n"
        "  (`control.train.export.MirrorAveragedActor`), so it is left-right symmetric by construction"
    )


def _resume_note(resumed_from: Path | None) -> str:
    if resumed_from is None:
        return ""
    return (
        f"\n- continued from the checkpoint `{resumed_from}`: reproducing this file means first running the command\n"
        "  that wrote that checkpoint (see the card of the policy it ended), then this one; the env steps and\n"
        "  iterations below count both runs, the wall time this run only"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, required=True, help="environment steps (policy periods) to train for")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True, help="folder for <name>.onnx and <name>.md")
    ap.add_argument("--robot", default="reference_humanoid")
    ap.add_argument("--name", default="walk_v1")
    ap.add_argument("--policy-key", default="walk", help="key under `policies:` in the manifest")
    ap.add_argument("--num-envs", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2, help="MuJoCo rollout threads")
    ap.add_argument("--max-wall-min", type=float, default=None, help="stop training after this many minutes")
    ap.add_argument("--eval-episodes", type=int, default=32)
    ap.add_argument("--eval-seconds", type=float, default=20.0)
    ap.add_argument("--checkpoint", type=Path, default=None, help="checkpoint written every 20 iterations")
    ap.add_argument("--resume", type=Path, default=None, help="continue from a checkpoint")
    ap.add_argument("--no-manifest", action="store_true", help="do not record the artifact in the manifest")
    ap.add_argument("--warm-start", type=Path, default=None, help="continue the actor of a shipped ONNX policy")
    ap.add_argument("--critic-warmup-iters", type=int, default=30, help="with --warm-start: critic-only iterations")
    ap.add_argument("--init-std", type=float, default=None, help="initial action std (default: the PPO config's)")
    ap.add_argument("--symmetry-coef", type=float, default=None, help="mirror-symmetry loss weight (default: the PPO config's)")
    ap.add_argument(
        "--mirror-average", action=argparse.BooleanOptionalAction, default=True,
        help="train and ship the policy averaged with its mirror image (default: yes)",
    )
    ap.add_argument(
        "--env", action="append", default=[], metavar="FIELD=VALUE",
        help="override a WalkEnvConfig field, e.g. --env no_lateral_prob=0.2 (repeatable; recorded in the card's command)",
    )
    args = ap.parse_args(argv)

    torch.set_num_threads(1)
    np.random.seed(args.seed)
    spec = load_robot_spec(args.robot)
    io = PolicyIO(spec, kind="walk")
    env_cfg = replace(WalkEnvConfig(num_envs=args.num_envs, threads=args.threads), **config_overrides(WalkEnvConfig, args.env))
    ppo_cfg = replace(walk_ppo_config(), mirror_average=args.mirror_average)
    if args.init_std is not None:
        ppo_cfg = replace(ppo_cfg, init_std=args.init_std)
    if args.symmetry_coef is not None:
        ppo_cfg = replace(ppo_cfg, symmetry_coef=args.symmetry_coef)
    command = "python -m control.train.train_walk " + " ".join(sys.argv[1:] if argv is None else argv)

    def log(line: str) -> None:
        print(line, flush=True)

    max_wall = args.max_wall_min * 60 if args.max_wall_min else None
    result = train(
        spec, args.steps, args.seed, env_cfg, ppo_cfg, log, args.checkpoint, args.resume, max_wall,
        warm_start=args.warm_start, critic_warmup_iters=args.critic_warmup_iters,
    )
    log(f"trained {result.env_steps} steps in {result.wall_s / 60:.1f} min")

    onnx_path = args.out / f"{args.name}.onnx"
    sha = export_onnx(result.ppo.model, io, onnx_path, {"name": args.name, "seed": str(args.seed), "kind": "walk"})
    log(f"exported {onnx_path} sha256 {sha}")
    policy = FrozenPolicy(PolicyArtifact(args.policy_key, onnx_path, sha, None), io)
    eval_seed = 10_000 + args.seed
    evals = []
    for label, fn in ((f"{args.name} (ONNX)", batch_act_fn(policy)), ("gait reference alone", reference_only_act_fn(io.action_dim))):
        ev = evaluate(spec, fn, args.eval_episodes, args.eval_seconds, eval_seed)
        log(f"eval {label}: {ev}")
        evals.append((label, ev))
    card = args.out / f"{args.name}.md"
    write_model_card(
        card, name=args.name, command=command, seed=args.seed, result=result, sha256=sha, io=io,
        env_cfg=env_cfg, ppo_cfg=ppo_cfg, evals=evals, eval_seed=eval_seed, resumed_from=args.resume,
    )
    log(f"wrote {card}")
    if not args.no_manifest:
        manifest = spec.folder / "manifest.yaml"
        rel = lambda p: p.resolve().relative_to(spec.folder.resolve()).as_posix()  # noqa: E731
        update_manifest(manifest, args.policy_key, rel(onnx_path), sha, rel(card))
        log(f"recorded policies.{args.policy_key} in {manifest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
