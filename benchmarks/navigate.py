"""Base planning in the kitchen: every ordered pair of stations, OMPL vs a straight-line check.

A station is a place with a stand pose (its `stand_<place>` site, or the derived one); places
sharing a stand pose count once. For each ordered pair the base planner (`motion/base_planner.py`:
escape, RRTConnect best of several seeded runs, shortcut, B-spline, 5 cm resampling) runs
`--rounds` times on the floor plan of the initial kitchen. The baseline, in the same process,
is the straight segment checked on the same floor plan: how long that costs and how often it
alone would do. Reported: success rate, path length / straight-line distance, planning time
median and p99, and the floor plan's build time.

    .venv/bin/python -m benchmarks.navigate [--rounds 3] [--json out.json]
    .venv/bin/python -m benchmarks.navigate --walk [--walk-pairs N]   # also walk each pair, physically
    .venv/bin/python -m benchmarks.navigate --walk --policy walk=PATH.onnx  # a candidate, unpromoted

`--walk` then runs the `navigate` skill for real on every ordered pair (or the first N): the
robot starts standing at the first station's stand pose in the simulated kitchen, the control
loop runs the frozen standing and walking policies (in process, lockstep), and the skill
plans, walks and stops at the second. Reported: success rate, arrival position and heading
error, walking time (sim), sim time / wall time, falls.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import time

import numpy as np

from benchmarks.common import with_candidate_policies
from bridge.sim_world import SimWorld
from humanoid.robot_spec import load_robot_spec
from motion.base_planner import BasePlanner
from motion.executor import SkillExecutor
from motion.skills.navigate import floor_plan, stand_pose
from scenarios.world import build_world


def percentile(xs: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(xs), p)) if xs else float("nan")


class _Still:
    """A motion client that only reports the simulator's state (planning needs no motion)."""

    def __init__(self, sim: SimWorld) -> None:
        self.sim = sim

    def execute(self, req):
        from bridge.messages import MotionResult

        return MotionResult(
            seq=req.seq, status="ok", detail="", state=self.sim.state(), world=self.sim.observe()
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--time-limit", type=float, default=1.0, help="OMPL time limit per query, s")
    ap.add_argument("--json", default="")
    ap.add_argument("--walk", action="store_true", help="also walk every ordered pair with the trained policies")
    ap.add_argument("--walk-pairs", type=int, default=0, help="walk only the first N ordered pairs (0: all)")
    ap.add_argument("--policy", action="append", default=[], metavar="NAME=PATH",
                    help="walk with this policy file instead of the manifest's (e.g. walk=.../walk_v5.onnx)")
    args = ap.parse_args()

    spec = with_candidate_policies(load_robot_spec(), args.policy)
    world = build_world("kitchen", spec)
    sim = SimWorld(world)
    ex = SkillExecutor(world, _Still(sim))
    ex.observe()
    ctx = ex.ctx
    t0 = time.perf_counter()
    floor = floor_plan(ctx)
    build_s = time.perf_counter() - t0
    robot = np.zeros(3)
    stations: dict[str, np.ndarray] = {}
    for place in world.places:
        try:
            goal, _, _ = stand_pose(ctx, floor, place, robot)
        except Exception as e:  # noqa: BLE001 - a place without a stand pose is reported, not fatal
            print(f"  (skipped {place}: {e})")
            continue
        if not any(np.allclose(goal, g, atol=1e-6) for g in stations.values()):
            stations[place] = goal
    planner = BasePlanner(floor, time_limit_s=args.time_limit)

    rows = []
    for (a, pa), (b, pb) in itertools.permutations(stations.items(), 2):
        t = time.perf_counter()
        line_ok = floor.segment_free(pa[:2], pb[:2])
        line_s = time.perf_counter() - t
        times, statuses, ratios = [], [], []
        for _ in range(args.rounds):
            plan = planner.plan(pa, pb, f"stand_{b}")
            times.append(plan.planning_time_s * 1e3)
            statuses.append(plan.status)
            if plan.ok and plan.straight_m > 1e-6:
                ratios.append(plan.length_m / plan.straight_m)
        rows.append(
            {
                "query": f"{a}->{b}",
                "straight_m": float(np.linalg.norm(pb[:2] - pa[:2])),
                "straight_line_free": line_ok,
                "straight_line_check_ms": line_s * 1e3,
                "plan_ms": times,
                "statuses": statuses,
                "success": sum(s in ("exact_solution", "straight_line") for s in statuses) / len(statuses),
                "length_ratio": float(np.mean(ratios)) if ratios else None,
            }
        )

    print(
        f"\nBase planning in the kitchen ({platform.processor() or platform.machine()}, {len(stations)} stations, "
        f"{len(rows)} ordered pairs x {args.rounds} rounds; floor plan {floor.shape[1]}x{floor.shape[0]} cells "
        f"of {floor.cell * 100:.1f} cm built in {build_s * 1e3:.0f} ms)"
    )
    print(
        f"{'query':36s} {'dist m':>7s} {'line ok':>7s} {'line ms':>8s} {'plan ms':>8s} {'success':>8s} {'len/dist':>8s}"
    )
    for r in rows:
        ratio = r["length_ratio"] if r["length_ratio"] is not None else float("nan")
        print(
            f"{r['query']:36s} {r['straight_m']:7.2f} {('yes' if r['straight_line_free'] else 'no'):>7s} "
            f"{r['straight_line_check_ms']:8.2f} {np.median(r['plan_ms']):8.1f} {r['success']:8.0%} {ratio:8.2f}"
        )
    all_ms = [t for r in rows for t in r["plan_ms"]]
    ratios = [r["length_ratio"] for r in rows if r["length_ratio"] is not None]
    summary = {
        "stations": list(stations),
        "pairs": len(rows),
        "rounds": args.rounds,
        "success": float(np.mean([r["success"] for r in rows])),
        "plan_ms_median": percentile(all_ms, 50),
        "plan_ms_p99": percentile(all_ms, 99),
        "plan_ms_median_blocked_line": percentile(
            [t for r in rows if not r["straight_line_free"] for t in r["plan_ms"]], 50
        ),
        "straight_line_check_ms_median": percentile([r["straight_line_check_ms"] for r in rows], 50),
        "straight_line_free": float(np.mean([r["straight_line_free"] for r in rows])),
        "length_ratio_median": percentile(ratios, 50),
        "length_ratio_max": max(ratios) if ratios else float("nan"),
        "floor_plan_build_ms": build_s * 1e3,
    }
    print(
        "\nsummary:", json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in summary.items()})
    )
    walks = walk_pairs(world, stations, args.walk_pairs) if args.walk else []
    if walks:
        ok = [w for w in walks if w["succeeded"]]
        walk_summary = {
            "walks": len(walks),
            "success": len(ok) / len(walks),
            "falls": sum(w["reason"] == "safety_stop" for w in walks),
            "arrival_error_m_median": percentile([w["arrival_error_m"] for w in ok], 50),
            "arrival_error_m_max": max((w["arrival_error_m"] for w in ok), default=float("nan")),
            "arrival_yaw_error_rad_median": percentile([w["arrival_yaw_error_rad"] for w in ok], 50),
            "walk_time_s_median": percentile([w["sim_s"] for w in ok], 50),
            "sim_over_wall": sum(w["sim_s"] for w in walks) / max(sum(w["wall_s"] for w in walks), 1e-9),
        }
        summary["walking"] = walk_summary
        print("\nwalking:", json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in walk_summary.items()}))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": summary, "rows": rows, "walks": walks}, f, indent=1)


def walk_pairs(world, stations: dict[str, np.ndarray], limit: int) -> list[dict]:
    """Walk between stations with the deployed controllers; one fresh simulator per walk."""
    from control.locomotion import LocomotionController
    from control.loop import ControlLoop
    from humanoid.contracts import Subgoal

    spec = world.robot
    pairs = list(itertools.permutations(stations.items(), 2))
    pairs = pairs[:limit] if limit else pairs
    out = []
    print()
    for k, ((a, pa), (b, _)) in enumerate(pairs):
        sim = SimWorld(world, robot_xy_yaw=tuple(pa))
        ex = SkillExecutor(world, ControlLoop(spec, sim, LocomotionController(spec)))
        t = time.perf_counter()
        res = ex.run(Subgoal("navigate", {"place": b}))
        wall = time.perf_counter() - t
        o = res.observations
        out.append(
            {
                "query": f"{a}->{b}",
                "succeeded": res.succeeded,
                "reason": res.reason.value if res.reason else None,
                "message": res.message,
                "arrival_error_m": o.get("arrival_error_m"),
                "arrival_yaw_error_rad": o.get("arrival_yaw_error_rad"),
                "path_length_m": o.get("path_length_m"),
                "sim_s": res.sim_time_end - res.sim_time_start,
                "wall_s": wall,
            }
        )
        w = out[-1]
        err = f"{w['arrival_error_m']:.3f} m / {w['arrival_yaw_error_rad']:.3f} rad" if res.succeeded else w["reason"]
        print(f"walk {k + 1:2d}/{len(pairs)} {w['query']:34s} {'ok  ' if res.succeeded else 'FAIL'} {err} "
              f"sim {w['sim_s']:5.1f} s wall {wall:5.1f} s {'' if res.succeeded else res.message[:90]}", flush=True)
    return out


if __name__ == "__main__":
    main()
