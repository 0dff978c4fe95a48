"""The main job, measured: `humanoid run "make me a coffee"` end to end, several times.

    python -m benchmarks.coffee_run [--runs 3] [--out /tmp/coffee-bench]

Each run is the real CLI in a fresh process (three processes in all: run, control, simulator),
so wall time includes start-up. From each run's trace it reads: wall and simulated time,
planner latency per plan, arm planning time per OMPL query, policy latency, and whether the
goal held. Baseline, in this same process: the physics alone for the same simulated time
(SimWorld stepping the kitchen with the robot holding its pose), i.e. what the simulator
costs before any layer above it does anything.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.common import summarize, table
from bridge.messages import JointCommand
from bridge.sim_world import SimWorld
from humanoid.robot_spec import load_robot_spec
from humanoid.trace.reader import read_trace
from scenarios.world import build_world


def physics_only(sim_seconds: float) -> float:
    spec = load_robot_spec()
    sim = SimWorld(build_world("kitchen", spec))
    t0 = time.perf_counter()
    i = 0
    while sim.sim_time < sim_seconds:
        sim.step(JointCommand(seq=i, stamp=sim.sim_time, q_target=spec.default_q, kp=spec.kp, kd=spec.kd))
        i += 1
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default="/tmp/coffee-bench")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    walls, sims, plan_lat, arm_lat, policy_lat, ok = [], [], [], [], [], 0
    for i in range(args.runs):
        trace = out / f"run{i}.mcap"
        t0 = time.perf_counter()
        r = subprocess.run(
            [sys.executable, "-m", "humanoid.cli", "run", "make me a coffee", "--quiet", "--trace", str(trace)],
            env=dict(os.environ, HF_HUB_OFFLINE="1"),
            capture_output=True,
            text=True,
        )
        walls.append(time.perf_counter() - t0)
        ok += r.returncode == 0
        t = read_trace(trace)
        sims.append(t.end.get("sim_time_s") or 0.0)
        plan_lat += [m.payload["planning_time_s"] for m in t.topic("/planner/plan") if m.payload.get("planning_time_s")]
        arm_lat += [
            m.payload["planning_time_s"]
            for m in t.topic("/motion/plan")
            if m.payload.get("status") == "exact_solution" and m.payload.get("planning_time_s")
        ]
        policy_lat += [m.payload["policy_latency_us"] * 1e-6 for m in t.topic("/control/telemetry") if "policy_latency_us" in m.payload]
        print(f"run {i}: exit {r.returncode}, {walls[-1]:.1f} s wall, {sims[-1]:.1f} s sim", flush=True)

    base = physics_only(float(np.median(sims)))
    print()
    print(f"runs: {args.runs}, goal reached: {ok}/{args.runs}")
    print(f"wall time per run (CLI, incl. start-up): median {np.median(walls):.1f} s, max {max(walls):.1f} s")
    print(f"simulated time per run: median {np.median(sims):.1f} s; sim/wall ratio {np.median(sims) / np.median(walls):.2f}")
    print(f"baseline, physics alone for {np.median(sims):.1f} s sim in this process: {base:.1f} s wall "
          f"(run / physics = {np.median(walls) / base:.2f})")
    print()
    rows = [
        ("planner: ground + plan (per plan)", summarize(plan_lat)),
        ("motion: OMPL arm query (per query)", summarize(arm_lat)),
        ("control: policy inference (telemetry)", summarize(policy_lat)),
    ]
    print(table(rows, baseline="control: policy inference (telemetry)"))


if __name__ == "__main__":
    main()
