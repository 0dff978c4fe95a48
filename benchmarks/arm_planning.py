"""Arm planning time in the kitchen: OMPL RRTConnect + simplify + timing vs a straight-line check.

A fixed set of arm queries from the standing robot (rest pose -> pre-grasp / pre-place /
pre-press poses, and between them), solved by IK once, then planned `--rounds` times. The
baseline, in the same process, is the straight joint-space line checked at the planner's
resolution: how long a check costs and how often it alone would have been enough.

    .venv/bin/python benchmarks/arm_planning.py [--rounds 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import time

import numpy as np

from bridge.sim_world import SimWorld
from humanoid.robot_spec import load_robot_spec
from motion.arm_planner import ArmPlanner
from motion.collision_model import CollisionModel
from motion.ik import ArmIK, IKTarget
from motion.skills.base import approach_rot
from scenarios.world import build_world

# (name, arm, site kind, position, yaw, pitch): poses the skills ask for in the kitchen
TARGETS = (
    ("pregrasp_mug_red", "right", "grasp", (0.34, -0.22, 0.80), 0.0, 0.35),
    ("right_of_mug_red", "right", "grasp", (0.42, -0.33, 0.80), 0.0, 0.35),
    ("left_of_mug_red", "right", "grasp", (0.42, -0.10, 0.80), 0.0, 0.35),
    ("above_user_right", "right", "grasp", (0.36, -0.03, 0.92), 0.3, 0.35),
    ("pregrasp_mug_blue", "left", "grasp", (0.28, 0.10, 0.80), 0.0, 0.35),
    ("above_coffee_slot", "left", "grasp", (0.40, 0.30, 0.90), 0.2, 0.35),
    ("prepress_button", "left", "tip", (0.45, 0.235, 0.95), 0.0, 0.0),
    ("above_user_left", "left", "grasp", (0.36, -0.03, 0.92), -0.3, 0.35),
)


def percentile(xs: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(xs), p)) if xs else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--time-limit", type=float, default=2.0)
    ap.add_argument("--json", default="")
    ap.add_argument("--simplify", default="fast", choices=("fast", "max"))
    args = ap.parse_args()

    spec = load_robot_spec()
    world = build_world("kitchen", spec)
    sim = SimWorld(world)
    state, obs = sim.state(), sim.observe()
    model = CollisionModel(world)
    model.sync(state, obs)
    planner = ArmPlanner(model, time_limit_s=args.time_limit, simplify=args.simplify)
    ik = ArmIK(spec)

    goals: dict[str, tuple[str, np.ndarray]] = {}
    ik_times = []
    for name, side, kind, pos, yaw, pitch in TARGETS:
        ee = spec.end_effectors[side]
        site = ee.grasp_site if kind == "grasp" else ee.tip_site
        rest = model.arm_q(side)

        def accept(q: np.ndarray, side: str = side, rest: np.ndarray = rest) -> bool:
            ok = model.arm_state_valid(side, q)
            model.set_arm(side, rest)
            return ok

        t0 = time.perf_counter()
        res = ik.solve(
            side,
            IKTarget(site, np.array(pos), approach_rot(yaw, pitch)),
            state.q,
            state.base_pos,
            state.base_quat,
            accept=accept,
        )
        ik_times.append(time.perf_counter() - t0)
        if res.ok:
            goals[name] = (side, res.q)
        else:
            print(
                f"  (skipped {name}: no collision-free IK solution; best residual {res.position_error * 1000:.1f} mm)"
            )

    queries = []
    rest = {s: model.arm_q(s) for s in spec.end_effectors}
    for name, (side, q) in goals.items():
        queries.append((f"rest->{name}", side, rest[side], q))
    for (a, (sa, qa)), (b, (sb, qb)) in itertools.combinations(goals.items(), 2):
        if sa == sb:
            queries.append((f"{a}->{b}", sa, qa, qb))

    rows = []
    for name, side, qa, qb in queries:
        t0 = time.perf_counter()
        straight = planner.segment_valid(side, qa, qb)
        t_line = time.perf_counter() - t0
        model.set_arm(side, rest[side])  # the check leaves the arm posed; the other arm's queries see it
        times, statuses, lengths, durations, solve, simp = [], [], [], [], [], []
        for _ in range(args.rounds):
            plan = planner.plan(side, qa, qb)
            times.append(plan.planning_time_s)
            solve.append(plan.extra.get("solve_s", 0.0) * 1e3)
            simp.append(plan.extra.get("simplify_s", 0.0) * 1e3)
            statuses.append(plan.status)
            if plan.ok:
                lengths.append(float(np.sum(np.linalg.norm(np.diff(plan.waypoints, axis=0), axis=1))))
                durations.append(plan.trajectory.duration)
        rows.append(
            {
                "query": name,
                "arm": side,
                "straight_line_valid": straight,
                "straight_line_check_ms": t_line * 1e3,
                "plan_ms": [t * 1e3 for t in times],
                "solve_ms": solve,
                "simplify_ms": simp,
                "statuses": statuses,
                "success": sum(s in ("exact_solution", "straight_line") for s in statuses) / len(statuses),
                "path_length_rad": float(np.mean(lengths)) if lengths else None,
                "duration_s": float(np.mean(durations)) if durations else None,
            }
        )

    all_ms = [t for r in rows for t in r["plan_ms"]]
    obstacle_ms = [t for r in rows if not r["straight_line_valid"] for t in r["plan_ms"]]
    line_ms = [r["straight_line_check_ms"] for r in rows]
    print(
        f"\nArm planning in the kitchen ({platform.processor() or platform.machine()}, {len(queries)} queries x {args.rounds} rounds)"
    )
    print(
        f"{'query':40s} {'arm':5s} {'line ok':7s} {'line ms':>8s} {'plan ms':>8s} {'(solve':>7s} {'simpl.)':>7s} "
        f"{'success':>8s} {'len rad':>8s} {'dur s':>6s}   (plan ms: medians over rounds)"
    )
    for r in rows:
        print(
            f"{r['query']:40s} {r['arm']:5s} {('yes' if r['straight_line_valid'] else 'no'):7s} {r['straight_line_check_ms']:8.2f} "
            f"{np.median(r['plan_ms']):8.1f} {np.median(r['solve_ms']):7.1f} {np.median(r['simplify_ms']):7.1f} {r['success']:8.0%} {r['path_length_rad'] or float('nan'):8.2f} {r['duration_s'] or float('nan'):6.2f}"
        )
    summary = {
        "queries": len(queries),
        "rounds": args.rounds,
        "plan_ms_median": percentile(all_ms, 50),
        "plan_ms_p99": percentile(all_ms, 99),
        "solve_ms_median": percentile(
            [t for r in rows if not r["straight_line_valid"] for t in r["solve_ms"]], 50
        ),
        "simplify_ms_median": percentile(
            [t for r in rows if not r["straight_line_valid"] for t in r["simplify_ms"]], 50
        ),
        "plan_ms_median_blocked_line": percentile(obstacle_ms, 50),
        "plan_ms_p99_blocked_line": percentile(obstacle_ms, 99),
        "straight_line_check_ms_median": percentile(line_ms, 50),
        "straight_line_success": float(np.mean([r["straight_line_valid"] for r in rows])),
        "planner_success": float(np.mean([r["success"] for r in rows])),
        "ik_ms_median": percentile([t * 1e3 for t in ik_times], 50),
    }
    print(
        "\nsummary:", json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in summary.items()})
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": summary, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
