"""Walking benchmark: random velocity commands and random pushes on the open floor, the deployed path.

    python -m benchmarks.walking [--episodes 100] [--seconds 20] [--baseline-episodes 10] [--json FILE]

Each episode: `SimWorld` (open_floor scene) + `ControlLoop` + `LocomotionController` (the frozen
standing and walking policies with their hand-overs), exactly what the control process runs.
Commands are drawn as in training: resampled every 3-6 s, 20 % "stand still", otherwise
uniform in the trained ranges; every 3-6 s a horizontal push of 20-80 N for 0.1-0.2 s on the
pelvis or torso. Optionally a payload on one hand (`--payload-kg`) and arm motion (`--arms`).

Reported per controller: falls; velocity tracking RMS (m/s, base frame, while a motion is
commanded, also forward and sideways apart; "steady" leaves out the first second after each
command change); yaw-rate RMS;
heading error at the end of each command segment (integrated command vs actual yaw); drift
while told to stand; sim time / wall time; per-period policy latency p50/p99. The baseline,
run in the same process, is the walking policy's stepping reference with a zero action.

Each fall is listed with its situation (which policy was in charge, the command, seconds since
the command changed and since the last push), so a fall can be replayed: the episode's seed is
`--seed` x 1000 + its index.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass

import numpy as np

from benchmarks.common import with_candidate_policies
from bridge.messages import MotionRequest
from bridge.sim_world import SimWorld
from control import gait
from control.locomotion import LocomotionController
from control.loop import ControlLoop
from humanoid.robot_spec import load_robot_spec
from motion.path_tracker import pose_from_state, wrap
from scenarios.world import build_world

CHUNK_S = 0.5  # one MotionRequest per half second: pushes and command changes fall on these edges
STEADY_AFTER_S = 1.0


@dataclass
class EpisodeResult:
    fell: bool
    seconds: float
    sq_err_xy: list[tuple[float, float]]  # squared velocity error samples while moving, forward and sideways
    steady_sq_err: list[float]
    yaw_rate_sq_err: list[float]
    heading_err: list[float]  # |integrated command - actual yaw| at each segment end (rad)
    stand_speed: list[float]
    latency_us: list[float]
    wall_s: float
    fall: dict | None = None  # the situation at the fall: controller in charge, command, timings


def legs_controller(spec, reference_only: bool) -> LocomotionController:
    """The deployed stand/walk controller; `reference_only`: the walking policy's action held at
    zero, so the stepping reference alone walks (the benchmarks' in-process baseline)."""
    legs = LocomotionController(spec)
    if reference_only:
        legs.walk.policy.act = lambda obs: np.zeros(legs.walk.io.action_dim, dtype=np.float32)
    return legs


def hold_velocity(loop: ControlLoop, seq: int, command: np.ndarray, seconds: float):
    """Hold the base `command` for `seconds` with no arm motion; the loop's MotionResult."""
    req = MotionRequest(seq=seq, times=np.zeros(0), arm_q=np.zeros((0, 14)), gripper=np.zeros((0, 2)),
                        settle_s=seconds, base_velocity=np.array(command, dtype=np.float64))
    return loop.execute(req)


def _yaw(state) -> float:
    return float(pose_from_state(state.base_pos, state.base_quat)[2])


def run_episode(world, spec, seed: int, seconds: float, reference_only: bool, payload_kg: float, arms: bool) -> EpisodeResult:
    rng = np.random.default_rng(seed)
    sim = SimWorld(world, seed=seed)
    if payload_kg:
        hand = world.model.body(spec.end_effectors["left"].hand_body).id
        sim.model.body_mass[hand] += payload_kg
    legs = legs_controller(spec, reference_only)
    loop = ControlLoop(spec, sim, legs)
    arm_idx = spec.indices(("left_arm", "right_arm"))
    lo, hi = spec.q_lower[arm_idx], spec.q_upper[arm_idx]
    arm_home = spec.default_q[arm_idx]
    arm_goal = arm_home.copy()
    t, seq = 0.0, 0
    cmd = np.zeros(3)
    next_cmd, next_push = 0.0, rng.uniform(3.0, 6.0)
    seg_start_t, seg_yaw0, seg_cmd_yaw = 0.0, _yaw(loop.state), 0.0
    last_push_t = None
    out = EpisodeResult(False, 0.0, [], [], [], [], [], [], 0.0)
    t0 = time.perf_counter()
    while t < seconds - 1e-9:
        if t >= next_cmd:
            yaw = _yaw(loop.state)
            if t > 0:
                out.heading_err.append(abs(wrap(seg_yaw0 + seg_cmd_yaw - yaw)))
            cmd = np.zeros(3) if rng.random() < 0.2 else rng.uniform(gait.COMMAND_LOW, gait.COMMAND_HIGH)
            if not gait.wants_motion(cmd):
                cmd[:] = 0.0
            next_cmd = t + rng.uniform(3.0, 6.0)
            seg_start_t, seg_yaw0, seg_cmd_yaw = t, yaw, 0.0
        if t >= next_push:
            ang, mag = rng.uniform(0, 2 * np.pi), rng.uniform(20.0, 80.0)
            sim.push(str(rng.choice(["pelvis", "torso"])), (mag * np.cos(ang), mag * np.sin(ang), 0.0), rng.uniform(0.1, 0.2))
            last_push_t = t
            next_push = t + rng.uniform(3.0, 6.0)
        if arms and rng.random() < 0.2:
            arm_goal = arm_home + (rng.uniform(lo, hi) - arm_home) * 0.4
        arm_now = loop.upper_ref[arm_idx]
        arm_next = arm_now + np.clip(arm_goal - arm_now, -CHUNK_S, CHUNK_S)  # ~1 rad/s
        seq += 1
        req = MotionRequest(
            seq=seq, times=np.array([0.0, CHUNK_S]), arm_q=np.stack([arm_now, arm_next]), gripper=np.ones((2, 2)),
            settle_s=0.0, base_velocity=cmd.copy(),
        )
        res = loop.execute(req)
        for sample in res.telemetry:
            v = np.asarray(sample["base_linvel"])
            out.latency_us.append(sample["policy_latency_us"])
            if gait.wants_motion(cmd):
                ex2, ey2 = np.square(cmd[:2] - v[:2])
                e2 = float(ex2 + ey2)
                out.sq_err_xy.append((float(ex2), float(ey2)))
                if sample["sim_time"] - seg_start_t >= STEADY_AFTER_S:
                    out.steady_sq_err.append(e2)
            else:
                out.stand_speed.append(float(np.linalg.norm(v[:2])))
        if gait.wants_motion(cmd):
            out.yaw_rate_sq_err.append(float((cmd[2] - res.state.base_angvel[2]) ** 2))
        seg_cmd_yaw += cmd[2] * CHUNK_S
        t += CHUNK_S
        if res.status != "ok":
            out.fell = res.status == "fallen"
            if out.fell:
                out.fall = {
                    "seed": seed, "sim_time": round(t, 1), "in_charge": legs.mode, "command": np.round(cmd, 2).tolist(),
                    "since_command_s": round(t - seg_start_t, 1),
                    "since_push_s": None if last_push_t is None else round(t - last_push_t, 1),
                }
            break
    out.seconds = t
    out.wall_s = time.perf_counter() - t0
    return out


def summarize(name: str, results: list[EpisodeResult]) -> dict:
    cat = lambda attr: np.concatenate([np.asarray(getattr(r, attr), dtype=float) for r in results])  # noqa: E731
    xy = np.concatenate([np.asarray(r.sq_err_xy, dtype=float).reshape(-1, 2) for r in results])
    per_ep = [float(np.sqrt(np.mean(np.sum(r.sq_err_xy, axis=1)))) for r in results if r.sq_err_xy]
    lat = cat("latency_us")
    sim_s, wall_s = sum(r.seconds for r in results), sum(r.wall_s for r in results)
    return {
        "controller": name,
        "episodes": len(results),
        "falls": int(sum(r.fell for r in results)),
        "fall_rate": float(np.mean([r.fell for r in results])),
        "track_rms_m_s": float(np.sqrt(np.mean(xy.sum(axis=1)))) if len(xy) else None,
        "track_rms_forward_m_s": float(np.sqrt(np.mean(xy[:, 0]))) if len(xy) else None,
        "track_rms_sideways_m_s": float(np.sqrt(np.mean(xy[:, 1]))) if len(xy) else None,
        "track_rms_steady_m_s": float(np.sqrt(np.mean(cat("steady_sq_err")))) if len(cat("steady_sq_err")) else None,
        "track_rms_episode_p50": float(np.percentile(per_ep, 50)) if per_ep else None,
        "track_rms_episode_p99": float(np.percentile(per_ep, 99)) if per_ep else None,
        "yaw_rate_rms_rad_s": float(np.sqrt(np.mean(cat("yaw_rate_sq_err")))) if len(cat("yaw_rate_sq_err")) else None,
        "heading_err_p50_rad": float(np.percentile(cat("heading_err"), 50)) if len(cat("heading_err")) else None,
        "heading_err_p99_rad": float(np.percentile(cat("heading_err"), 99)) if len(cat("heading_err")) else None,
        "stand_drift_m_s": float(np.mean(cat("stand_speed"))) if len(cat("stand_speed")) else None,
        "sim_over_wall": sim_s / wall_s,
        "policy_latency_p50_us": float(np.percentile(lat, 50)) if len(lat) else None,
        "policy_latency_p99_us": float(np.percentile(lat, 99)) if len(lat) else None,
        "falls_list": [r.fall for r in results if r.fall],
    }


def print_falls(summary: dict) -> None:
    """One line per fall: where to look first (walking or standing policy, push or command)."""
    falls = summary["falls_list"]
    if not falls:
        return
    by_charge = {m: sum(f["in_charge"] == m for f in falls) for m in ("walk", "stand")}
    pushed = sum(f["since_push_s"] is not None and f["since_push_s"] <= 2.0 for f in falls)
    print(f"{summary['controller']}: {len(falls)} falls; walking policy in charge {by_charge['walk']}, "
          f"standing policy {by_charge['stand']}; within 2 s of a push {pushed}")
    for f in falls:
        push = "-" if f["since_push_s"] is None else f"{f['since_push_s']:.1f} s"
        print(f"  seed {f['seed']:5d}  t {f['sim_time']:5.1f} s  {f['in_charge']:5s}  command {f['command']}  "
              f"{f['since_command_s']:.1f} s after it  last push {push} before")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--episodes", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--baseline-episodes", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--payload-kg", type=float, default=0.0, help="extra mass on the left hand")
    ap.add_argument("--arms", action="store_true", help="move the arms to random poses while walking")
    ap.add_argument("--robot", default="reference_humanoid")
    ap.add_argument("--json", help="also write the summary here")
    ap.add_argument("--policy", action="append", default=[], metavar="NAME=PATH",
                    help="measure this policy file instead of the manifest's (e.g. walk=.../walk_v4.onnx)")
    args = ap.parse_args(argv)
    if args.episodes < 1 or args.baseline_episodes < 1:
        ap.error("--episodes and --baseline-episodes must be at least 1 (the stepping reference alone is the "
                 "in-process baseline the tracking ratio is taken against; 2 episodes are enough for it)")
    spec = with_candidate_policies(load_robot_spec(args.robot), args.policy)
    world = build_world("open_floor", spec)
    summaries = []
    for name, n, ref_only in (("walk policy", args.episodes, False), ("stepping reference alone", args.baseline_episodes, True)):
        results = []
        for k in range(n):
            results.append(run_episode(world, spec, args.seed * 1000 + k, args.seconds, ref_only, args.payload_kg, args.arms))
            fell = sum(r.fell for r in results)
            print(f"\r{name}: episode {k + 1}/{n}, falls {fell}", end="", flush=True)
        print()
        summaries.append(summarize(name, results))
    keys = [k for k in summaries[0] if k not in ("controller", "falls_list")]
    print(f"{'':30s}" + "".join(f"{s['controller']:>28s}" for s in summaries))
    for k in keys:
        vals = [s[k] for s in summaries]
        print(f"{k:30s}" + "".join(f"{'-' if v is None else (f'{v:.3f}' if isinstance(v, float) else v):>28}" for v in vals))
    print_falls(summaries[0])
    base, pol = summaries[1], summaries[0]
    if base["track_rms_m_s"] and pol["track_rms_m_s"]:
        print(f"tracking RMS, policy / reference alone: {pol['track_rms_m_s'] / base['track_rms_m_s']:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "results": summaries}, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
