"""How the robot stops: walk, order a stop, and follow the hand-over to the standing policy.

    python -m benchmarks.stops [--policy walk=PATH.onnx] [--policy stand=PATH.onnx] [--repeats 5]

For each command of a fixed set (forward slow to fast, backward, sideways, turning, mixed), a
fresh `SimWorld` on the open floor runs the deployed path (`ControlLoop` +
`LocomotionController`, no pushes, arms at home): the command is held for ~3 s, then a zero
command for `--after` s. Each repeat walks a little longer (a fifth of a stride more), so the
stop order arrives at another point of the stride. Measured per stop:

- speed when the stop is ordered and when the standing policy takes over (m/s);
- seconds from the order to the hand-over;
- slide: how far the pelvis travels from the order to the hand-over (m);
- shift: how far it moves after the hand-over (m), and along the heading (negative = backward).
  This is what decides whether the robot ends where `navigate` docked it: pressing the coffee
  machine's button from 6 cm behind the stand pose is out of reach;
- falls, and which policy was in charge.

Why it exists: the random-command benchmark (`benchmarks.walking`) mixes stops with pushes and
turns, and the station walks (`benchmarks.navigate`) take minutes; this isolates the stop,
where walk_v6 and walk_v7 lost their promotions (docs/walking.md, "Hand-over"). With candidate
policies (`--policy`), the manifest's pair runs first in the same process as the baseline.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

from benchmarks.common import with_candidate_policies
from benchmarks.walking import hold_velocity, legs_controller
from bridge.sim_world import SimWorld
from control.gait import PERIOD_S
from control.loop import ControlLoop
from humanoid.robot_spec import load_robot_spec
from motion.path_tracker import pose_from_state
from scenarios.world import build_world

COMMANDS = (
    (0.2, 0.0, 0.0),
    (0.4, 0.0, 0.0),
    (0.6, 0.0, 0.0),
    (-0.3, 0.0, 0.0),
    (0.0, 0.3, 0.0),
    (0.0, -0.3, 0.0),
    (0.0, 0.0, 0.8),
    (0.5, 0.2, 0.5),
)
WALK_S = 3.0
STEP_S = 0.1  # one MotionRequest per tenth of a second: the hand-over is timed to that


@dataclass
class Stop:
    command: tuple[float, float, float]
    walk_s: float
    fell: bool = False
    fell_in: str = ""  # "walk" or "stand": the policy in charge when it fell
    order_speed: float = float("nan")
    handover_s: float = float("nan")  # nan: no hand-over within the window
    handover_speed: float = float("nan")
    slide_m: float = float("nan")
    shift_m: float = float("nan")
    shift_along_m: float = float("nan")


def run_stop(world, spec, command: np.ndarray, walk_s: float, after_s: float) -> Stop:
    sim = SimWorld(world, seed=0)
    legs = legs_controller(spec, reference_only=False)
    loop = ControlLoop(spec, sim, legs)
    out = Stop(tuple(float(c) for c in command), walk_s)
    if hold_velocity(loop, 1, command, walk_s).status != "ok":
        out.fell, out.fell_in = True, "walk"
        return out
    out.order_speed = float(np.linalg.norm(loop.state.base_linvel[:2]))
    order_xy = np.array(loop.state.base_pos[:2])
    handover_pose = None
    t, seq = 0.0, 1
    while t < after_s - 1e-9:
        mode = legs.mode
        seq += 1
        res = hold_velocity(loop, seq, np.zeros(3), STEP_S)
        t += STEP_S
        if res.status != "ok":
            out.fell, out.fell_in = True, mode
            return out
        if handover_pose is None and legs.mode == "stand":
            out.handover_s = t
            out.handover_speed = float(np.linalg.norm(res.state.base_linvel[:2]))
            handover_pose = pose_from_state(res.state.base_pos, res.state.base_quat)
            out.slide_m = float(np.linalg.norm(np.array(handover_pose[:2]) - order_xy))
    if handover_pose is not None:
        x, y, yaw = handover_pose
        x1, y1, _ = pose_from_state(loop.state.base_pos, loop.state.base_quat)
        d = np.array([x1 - x, y1 - y])
        out.shift_m = float(np.linalg.norm(d))
        out.shift_along_m = float(d @ np.array([np.cos(yaw), np.sin(yaw)]))
    return out


def measure(world, spec, repeats: int, after_s: float) -> list[Stop]:
    stops = []
    for cmd in COMMANDS:
        for k in range(repeats):
            stops.append(run_stop(world, spec, np.array(cmd), WALK_S + k * PERIOD_S / max(repeats, 1), after_s))
    return stops


def summary(stops: list[Stop]) -> dict[str, float]:
    ok = [s for s in stops if not s.fell and np.isfinite(s.handover_s)]
    col = lambda name: np.array([getattr(s, name) for s in ok]) if ok else np.array([np.nan])  # noqa: E731
    return {
        "stops": len(stops),
        "falls": sum(s.fell for s in stops),
        "falls_standing": sum(s.fell and s.fell_in == "stand" for s in stops),
        "no_handover": sum(not s.fell and not np.isfinite(s.handover_s) for s in stops),
        "handover_s_max": float(np.max(col("handover_s"))),
        "handover_speed_max": float(np.max(col("handover_speed"))),
        "slide_m_max": float(np.max(col("slide_m"))),
        "shift_m_median": float(np.median(col("shift_m"))),
        "shift_m_max": float(np.max(col("shift_m"))),
        "back_m_max": float(max(0.0, -np.min(col("shift_along_m")))),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--policy", action="append", default=[], metavar="NAME=PATH.onnx",
                    help="candidate policy in place of the manifest's (repeatable: walk=..., stand=...)")
    ap.add_argument("--robot", default="reference_humanoid")
    ap.add_argument("--repeats", type=int, default=5, help="stops per command, each at another point of the stride")
    ap.add_argument("--after", type=float, default=4.0, help="seconds watched after the stop order")
    ap.add_argument("--per-stop", action="store_true", help="print every stop, not only the summary")
    args = ap.parse_args(argv)
    base = load_robot_spec(args.robot)
    world = build_world("open_floor", base)
    runs = {"manifest": base}
    if args.policy:
        runs["candidate (" + ", ".join(p.partition("=")[0] + "=" + p.rpartition("/")[2] for p in args.policy) + ")"] = (
            with_candidate_policies(base, args.policy)
        )
    results = {}
    t0 = time.perf_counter()
    for name, spec in runs.items():
        results[name] = measure(world, spec, args.repeats, args.after)
        print(f"measured {name}: {len(results[name])} stops ({time.perf_counter() - t0:.0f} s)", flush=True)
    if args.per_stop:
        for name, stops in results.items():
            print(f"\n{name}")
            print(f"{'command':>20s} {'walk s':>6s} {'order m/s':>9s} {'hand-over s':>11s} {'m/s':>5s} {'slide m':>7s} {'shift m':>7s} {'along m':>7s}  fell")
            for s in stops:
                cmd = "(" + ", ".join(f"{c:+.1f}" for c in s.command) + ")"
                fell = f"in {s.fell_in}" if s.fell else ""
                print(f"{cmd:>20s} {s.walk_s:6.2f} {s.order_speed:9.2f} {s.handover_s:11.1f} {s.handover_speed:5.2f} "
                      f"{s.slide_m:7.3f} {s.shift_m:7.3f} {s.shift_along_m:+7.3f}  {fell}")
    print(f"\n{'':44s} {'falls':>5s} {'(standing)':>10s} {'no hand-over':>12s} {'hand-over s':>11s} {'m/s':>5s} "
          f"{'slide m':>7s} {'shift med':>9s} {'shift max':>9s} {'back max':>8s}")
    for name, stops in results.items():
        s = summary(stops)
        print(f"{name[:44]:44s} {s['falls']:5d} {s['falls_standing']:10d} {s['no_handover']:12d} {s['handover_s_max']:11.1f} "
              f"{s['handover_speed_max']:5.2f} {s['slide_m_max']:7.3f} {s['shift_m_median']:9.3f} {s['shift_m_max']:9.3f} "
              f"{s['back_m_max']:8.3f}")
    print("(maxima over the stops that reached the hand-over; shift = movement after it, back = against the heading)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
