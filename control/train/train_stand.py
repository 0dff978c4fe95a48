"""Train, export, evaluate and register the standing-balance policy in one command.

    python -m control.train.train_stand --steps 2000000 --seed 0 --out robots/reference_humanoid/policies

Prints one progress line per PPO iteration, then writes `<name>.onnx` and a model card
`<name>.md` to --out, evaluates the exported file through the runtime loader against the
PD-hold baseline (zero action), and records the artifact's sha256 in the robot manifest
(`policies.stand`). A person reviews the card before the policy is used (DESIGN.md).
"""

from __future__ import annotations

import argparse
import platform
import re
import sys
import time
from collections import deque
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
import torch

from control.observation import PolicyIO
from control.policy import FrozenPolicy
from control.train.env import StandEnv, StandEnvConfig
from control.train.export import OPSET, export_onnx, load_deployed_actor
from control.train.overrides import config_overrides
from control.train.ppo import PPO, PPOConfig
from humanoid.robot_spec import PolicyArtifact, RobotSpec, load_robot_spec

EVAL_DIFFICULTIES = (1.0, 0.5)


@dataclass
class TrainResult:
    ppo: PPO
    env_steps: int
    iterations: int
    wall_s: float
    last_stats: dict[str, float]
    final_difficulty: float


def train(
    spec: RobotSpec,
    steps: int,
    seed: int,
    env_cfg: StandEnvConfig | None = None,
    ppo_cfg: PPOConfig | None = None,
    log=print,
    checkpoint: Path | None = None,
    max_wall_s: float | None = None,
    curriculum: bool = True,
    warm_start: Path | None = None,
    critic_warmup_iters: int = 0,
) -> TrainResult:
    """Run PPO until `steps` env steps (or `max_wall_s` seconds) have been collected.

    `warm_start`: a shipped standing policy's ONNX file whose actor training continues (from full
    difficulty, which the curriculum then lowers while too many episodes fall; the critic first
    learns alone for `critic_warmup_iters` iterations)."""
    torch.manual_seed(seed)
    env_cfg = env_cfg or StandEnvConfig()
    ppo_cfg = ppo_cfg or PPOConfig()
    env = StandEnv(spec, env_cfg, seed=seed)
    if curriculum:
        env.difficulty = 0.0  # start easy; raised while the robot mostly stays up
    ppo = PPO(env.obs_dim, env.priv_dim, env.action_dim, env.num_envs, ppo_cfg)
    if warm_start is not None:
        load_deployed_actor(ppo.model, warm_start)
        env.difficulty = 1.0
        log(f"actor warm-started from {warm_start}; critic alone for {critic_warmup_iters} iterations")
    obs, priv = env.reset()
    returns: deque[float] = deque(maxlen=200)
    lengths: deque[int] = deque(maxlen=200)
    falls: deque[bool] = deque(maxlen=50)
    env_steps, it, stats = 0, 0, {}
    t0 = time.perf_counter()
    while env_steps < steps:
        t_it = time.perf_counter()
        for _ in range(ppo_cfg.horizon):
            action = ppo.act(obs, priv)
            obs, priv, reward, term, trunc, info = env.step(action)
            ppo.record(reward, term, trunc, info["final_obs"], info["final_priv"])
            for ep in info["episodes"]:
                returns.append(ep["return"])
                lengths.append(ep["length"])
                falls.append(ep["fell"])
        ppo.actor_frozen = warm_start is not None and it < critic_warmup_iters
        stats = ppo.update(obs, priv)
        if curriculum and len(falls) >= 20:
            rate = float(np.mean(list(falls)[-50:]))
            step = 0.01 if rate < 0.25 else -0.01 if rate > 0.5 else 0.0
            env.difficulty = float(np.clip(env.difficulty + step, 0.0, 1.0))
        it += 1
        env_steps += ppo_cfg.horizon * env.num_envs
        wall = time.perf_counter() - t0
        sps = ppo_cfg.horizon * env.num_envs / (time.perf_counter() - t_it)
        ret = f"{np.mean(returns):7.1f}" if returns else "    n/a"
        length = f"{np.mean(lengths):5.0f}" if lengths else "  n/a"
        fall = f"{np.mean(falls):4.2f}" if falls else " n/a"
        log(
            f"it {it:5d} | steps {env_steps:9d} | {sps:6.0f} steps/s | wall {wall:6.0f}s | return {ret} | "
            f"ep_len {length} | fall {fall} | std {stats['std']:.3f} | kl {stats['kl']:.4f} | lr {stats['lr']:.1e} | "
            f"vloss {stats['value_loss']:.2f} | difficulty {env.difficulty:.2f}"
        )
        if checkpoint is not None and it % 20 == 0:
            torch.save(ppo.model.state_dict(), checkpoint)
        if max_wall_s is not None and wall > max_wall_s:
            log(f"stopping: wall-clock budget {max_wall_s:.0f}s reached at {env_steps} steps")
            break
    if checkpoint is not None:
        torch.save(ppo.model.state_dict(), checkpoint)
    return TrainResult(ppo, env_steps, it, time.perf_counter() - t0, stats, env.difficulty)


@dataclass
class EvalResult:
    episodes: int
    seconds: float
    fall_rate: float
    mean_tilt: float
    max_tilt: float
    mean_feet_shift_m: float
    mean_time_to_fall_s: float | None


def evaluate(
    spec: RobotSpec, act_fn, episodes: int, seconds: float, seed: int, env_cfg: StandEnvConfig, difficulty: float = 1.0
) -> EvalResult:
    """Run `episodes` parallel episodes; `act_fn(obs_batch) -> action_batch`. Counts each env's first episode."""
    cfg = StandEnvConfig(**{f.name: getattr(env_cfg, f.name) for f in fields(StandEnvConfig)})
    cfg.num_envs, cfg.episode_s, cfg.difficulty = episodes, seconds, difficulty
    env = StandEnv(spec, cfg, seed=seed)
    obs, _ = env.reset()
    alive = np.ones(episodes, dtype=bool)
    fell = np.zeros(episodes, dtype=bool)
    fall_t = np.zeros(episodes)
    tilt_sum, tilt_n, max_tilt = 0.0, 0, np.zeros(episodes)
    shift = np.zeros(episodes)
    for k in range(env.max_steps):
        feet_before = np.stack([d.xpos[env.foot_bodies, :2] for d in env.datas])
        obs, _, _, term, _, info = env.step(act_fn(obs))
        tilt = info["tilt"]
        live = alive & ~term
        tilt_sum += float(tilt[live].sum())
        tilt_n += int(live.sum())
        max_tilt = np.where(alive, np.maximum(max_tilt, tilt), max_tilt)
        shift = np.where(live, np.linalg.norm(feet_before - env.feet_xy0, axis=2).sum(axis=1), shift)
        newly = alive & term
        fell |= newly
        fall_t[newly] = (k + 1) * env.dt
        alive &= ~term
    return EvalResult(
        episodes=episodes,
        seconds=seconds,
        fall_rate=float(fell.mean()),
        mean_tilt=tilt_sum / max(tilt_n, 1),
        max_tilt=float(max_tilt.mean()),
        mean_feet_shift_m=float(shift[~fell].mean()) if (~fell).any() else float("nan"),
        mean_time_to_fall_s=float(fall_t[fell].mean()) if fell.any() else None,
    )


def frozen_act_fn(policy: FrozenPolicy):
    return lambda obs: np.stack([policy.act(o) for o in obs])


def zero_act_fn(action_dim: int):
    return lambda obs: np.zeros((obs.shape[0], action_dim))


def update_manifest(manifest_path: Path, name: str, file_rel: str, sha256: str, card_rel: str) -> None:
    """Replace (or add) the entry `name` under the top-level `policies:`, keeping every other line."""
    text = manifest_path.read_text()
    entry = f"  {name}:\n    file: {file_rel}\n    sha256: {sha256}\n    model_card: {card_rel}\n"
    block = re.search(r"^policies:[^\n]*\n(?:(?:[ \t]+[^\n]*|)\n)*", text, re.M)
    if block is None:
        raise SystemExit(f"{manifest_path}: no top-level 'policies:' entry to update")
    body = "policies:\n" + block.group(0).split("\n", 1)[1]  # an inline `policies: {}` becomes a block
    own = re.compile(rf"^  {re.escape(name)}:[^\n]*\n(?:    [^\n]*\n)*", re.M)
    body = own.sub(lambda _: entry, body, count=1) if own.search(body) else body.rstrip("\n") + "\n" + entry
    manifest_path.write_text(text[: block.start()] + body + text[block.end() :])


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _warm_start_note(path: Path | None) -> str:
    if path is None:
        return ""
    return (
        f"\n- continued the actor of `{path}`: reproducing this file from scratch means first running the\n"
        "  command in that file's card, then this one; the steps and wall time below are this run's only"
    )


def write_model_card(
    path: Path,
    *,
    name: str,
    command: str,
    seed: int,
    result: TrainResult,
    sha256: str,
    policy_io: PolicyIO,
    env_cfg: StandEnvConfig,
    ppo_cfg: PPOConfig,
    evals: list[tuple[float, EvalResult, EvalResult]],
    eval_seed: int,
    warm_started_from: Path | None = None,
) -> None:
    def row(label: str, e: EvalResult) -> str:
        ttf = f"{e.mean_time_to_fall_s:.2f}" if e.mean_time_to_fall_s is not None else "-"
        return (
            f"| {label} | {e.fall_rate:.2f} | {e.mean_tilt:.3f} | {e.max_tilt:.3f} | "
            f"{e.mean_feet_shift_m:.3f} | {ttf} |"
        )

    ev_policy, ev_base = evals[0][1], evals[0][2]
    beats = ev_policy.fall_rate < ev_base.fall_rate
    verdict = (
        "At full difficulty the policy falls less often than the PD-hold baseline."
        if beats
        else "**At full difficulty the policy does NOT beat the PD-hold baseline**; do not promote it for push robustness."
    )
    table = "\n".join(
        f"{row(f'{name} (ONNX), difficulty {d:g}', p)}\n{row(f'PD hold (zero action), difficulty {d:g}', b)}"
        for d, p, b in evals
    )
    layout = "\n".join(f"| {t.start}-{t.start + t.size - 1} | {t.name} | {t.size} | {t.scale:g} |" for t in policy_io.terms)
    rewards = "\n".join(f"| {r.name} | {r.weight:g} | {r.params or ''} |" for r in env_cfg.rewards)
    env_rows = "\n".join(
        f"- `{f.name}`: {getattr(env_cfg, f.name)}" for f in fields(StandEnvConfig) if f.name != "rewards"
    )
    ppo_rows = ", ".join(f"{f.name}={getattr(ppo_cfg, f.name)}" for f in fields(PPOConfig))
    ctrl = ", ".join(policy_io.spec.joint_names[i] for i in policy_io.controlled_idx)
    text = f"""# Model card: {name} (standing balance, {policy_io.spec.name})

Frozen RL execution layer policy: keeps the robot standing while the motion layer moves the
arms and grippers, under pushes and a hand payload. Loaded read-only by `control.policy.FrozenPolicy`,
which checks the sha256 below against the manifest.

- file: `{name}.onnx`, sha256 `{sha256}`
- ONNX opset {OPSET}; input `obs` float32 (batch, {policy_io.obs_dim}); output `action` float32 (batch, {policy_io.action_dim})
- inside the graph: observation normalisation (frozen running mean/std, clip +-5), MLP mean action, clip +-{policy_io.action_clip:g}
- layout signature: `{policy_io.signature()}`

## How it was made
- command: `{command}`{_warm_start_note(warm_started_from)}
- seed: {seed}; env steps: {result.env_steps} ({result.iterations} PPO iterations); training wall time: {result.wall_s / 60:.1f} min
  (evaluation and export add a few minutes); the same step count again: `--steps {result.env_steps}` without
  `--max-wall-min` (bit-identical reproduction not verified)
- hardware: {_cpu_name()}, 1 torch thread, no GPU; Python {platform.python_version()}, torch {torch.__version__}
- algorithm: PPO (clipped, GAE, adaptive-KL step size), asymmetric actor-critic (critic sees base velocity,
  height, push force, payload, friction, foot shift); {ppo_cfg.hidden} ELU MLPs
- PPO config: {ppo_rows}

## Evaluation ({ev_policy.episodes} episodes of {ev_policy.seconds:g} s, eval seed {eval_seed}, same randomisation as training)
Random arm/gripper motion over {env_cfg.arm_range_fraction:.0%} of the joint ranges, payload {env_cfg.payload_kg} kg
on one hand, pushes of {env_cfg.push_force_n} N for {env_cfg.push_duration_s} s every {env_cfg.push_interval_s} s,
floor friction {env_cfg.floor_friction}. Difficulty d scales the push force by d and arm reach and speed by
0.3 + 0.7 d (training ended at curriculum difficulty {result.final_difficulty:.2f}). Fall = tilt > 0.8 rad or pelvis below 0.45 m (`control.safety`).
The policy runs through the runtime path (`FrozenPolicy` on the exported file).

| controller | fall rate | mean tilt (rad) | mean max tilt (rad) | foot shift of survivors (m) | mean time to fall (s) |
|---|---|---|---|---|---|
{table}

{verdict}

## Observation layout (`control/observation.py`, the single source of truth)
| index | term | size | scale |
|---|---|---|---|
{layout}

`joint_pos` is q - default_q and `upper_ref` is the motion layer's arm+gripper reference - default_q;
`projected_gravity` is (0,0,-1) in the base frame from the IMU quaternion; `gyro` is the base-frame
angular velocity. No world position, no base linear velocity.

## Action
{policy_io.action_dim} values, clipped to +-{policy_io.action_clip:g}, for: {ctrl}.
q_target = default_q + {policy_io.action_scale:g} * action on those joints; arms and grippers follow `upper_ref`.
The robot side runs PD (manifest gains) at {policy_io.spec.physics_dt * 1000:g} ms; the policy runs at {policy_io.spec.control_rate_hz:g} Hz
and must be given its previous action as `last_action`.

## Training environment
{env_rows}

| reward term | weight | params |
|---|---|---|
{rewards}

## Known limits
- Trained on a flat floor with the robot alone; kitchen contacts (counters, objects) are unseen.
- Feet are rewarded for staying put: the policy does not step, so a push larger than the ankle/hip
  strategy can absorb still ends in a fall.
- Small CPU budget; numbers above come from this one seed.
"""
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, required=True, help="environment steps (policy periods) to train for")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True, help="folder for <name>.onnx and <name>.md")
    ap.add_argument("--robot", default="reference_humanoid")
    ap.add_argument("--name", default="stand_v1")
    ap.add_argument("--policy-key", default="stand", help="key under `policies:` in the manifest")
    ap.add_argument("--num-envs", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-wall-min", type=float, default=None, help="stop training after this many minutes")
    ap.add_argument("--eval-episodes", type=int, default=50)
    ap.add_argument("--eval-seconds", type=float, default=10.0)
    ap.add_argument("--checkpoint", type=Path, default=None, help="torch state_dict written every 20 iterations")
    ap.add_argument("--no-manifest", action="store_true", help="do not record the artifact in the manifest")
    ap.add_argument("--warm-start", type=Path, default=None, help="continue the actor of a shipped ONNX policy")
    ap.add_argument("--critic-warmup-iters", type=int, default=30, help="with --warm-start: critic-only iterations")
    ap.add_argument("--init-std", type=float, default=None, help="initial action std (default: the PPO config's)")
    ap.add_argument(
        "--env", action="append", default=[], metavar="FIELD=VALUE",
        help="override a StandEnvConfig field, e.g. --env stance_hip_roll_rad=(0.0,0.3) (repeatable; recorded in the card's command)",
    )
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    np.random.seed(args.seed)
    spec = load_robot_spec(args.robot)
    policy_io = PolicyIO(spec)
    env_cfg = replace(StandEnvConfig(num_envs=args.num_envs), **config_overrides(StandEnvConfig, args.env))
    ppo_cfg = PPOConfig() if args.init_std is None else replace(PPOConfig(), init_std=args.init_std)
    command = "python -m control.train.train_stand " + " ".join(sys.argv[1:] if argv is None else argv)

    def log(line: str) -> None:
        print(line, flush=True)

    max_wall = args.max_wall_min * 60 if args.max_wall_min else None
    result = train(
        spec, args.steps, args.seed, env_cfg, ppo_cfg, log=log, checkpoint=args.checkpoint, max_wall_s=max_wall,
        warm_start=args.warm_start, critic_warmup_iters=args.critic_warmup_iters,
    )
    log(f"trained {result.env_steps} steps in {result.wall_s / 60:.1f} min")

    out = args.out
    onnx_path = out / f"{args.name}.onnx"
    sha = export_onnx(result.ppo.model, policy_io, onnx_path, {"name": args.name, "seed": str(args.seed)})
    log(f"exported {onnx_path} sha256 {sha}")

    policy = FrozenPolicy(PolicyArtifact(args.policy_key, onnx_path, sha, None), policy_io)
    eval_seed = 10_000 + args.seed
    evals = []
    for difficulty in EVAL_DIFFICULTIES:
        ev_policy, ev_base = (
            evaluate(spec, fn, args.eval_episodes, args.eval_seconds, eval_seed, env_cfg, difficulty)
            for fn in (frozen_act_fn(policy), zero_act_fn(policy_io.action_dim))
        )
        log(f"eval difficulty {difficulty:g} policy:  {ev_policy}")
        log(f"eval difficulty {difficulty:g} PD hold: {ev_base}")
        evals.append((difficulty, ev_policy, ev_base))

    card = out / f"{args.name}.md"
    write_model_card(
        card,
        name=args.name,
        command=command,
        seed=args.seed,
        result=result,
        sha256=sha,
        policy_io=policy_io,
        env_cfg=env_cfg,
        ppo_cfg=ppo_cfg,
        evals=evals,
        eval_seed=eval_seed,
        warm_started_from=args.warm_start,
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
