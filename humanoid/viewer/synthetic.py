"""A synthetic trace of a long run, written with the real `TraceWriter`, for the viewer's
benchmark (benchmarks/viewer_open.py) and tests: as many messages as a run of that length
writes, with replans, safety events, the scene map and a walking base."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from humanoid.trace import TraceWriter

SKILLS = (
    ("pick", {"obj": "mug_red"}),
    ("place", {"obj": "mug_red", "target": "table"}),
    ("press", {"target": "coffee_machine"}),
)


def _subgoal(i: int, version: int) -> dict[str, Any]:
    skill, args = SKILLS[i % len(SKILLS)]
    return {
        "skill": skill,
        "args": args,
        "success": [["done", str(i)]],
        "time_budget_s": 30.0,
        "index": i,
        "version": 1,
    }


def write_long_run(
    path: Path, minutes: float = 10.0, telemetry_hz: float = 10.0, subgoal_s: float = 10.0
) -> Path:
    """A synthetic trace as a long run writes it: a subgoal every `subgoal_s`, 10 Hz telemetry.

    Every 20th subgoal fails (a grasp lost) and the planner replans; the base walks a loop
    so the map has a path to draw.
    """
    duration = minutes * 60.0
    n_subgoals = int(duration // subgoal_s)
    meta = {
        "command": "make me a coffee (long synthetic run)",
        "robot": "reference_humanoid",
        "scene": "kitchen",
        "seed": 0,
    }
    with TraceWriter(path, meta) as trace:
        trace.write(
            "/scene/map",
            {
                "frame": "world",
                "objects": [
                    {
                        "id": "table",
                        "kind": "furniture",
                        "pos": [1.2, -1.8, 0.4],
                        "half_size": [0.5, 0.4, 0.4],
                    },
                    {
                        "id": "mug_red",
                        "kind": "mug",
                        "pos": [1.1, -1.7, 0.85],
                        "half_size": [0.04, 0.04, 0.05],
                    },
                    {
                        "id": "coffee_machine",
                        "kind": "appliance",
                        "pos": [0.6, 0.3, 0.9],
                        "half_size": [0.12, 0.15, 0.2],
                    },
                ],
                "places": [{"id": "table", "pos": [1.2, -1.8, 0.82], "half_size": [0.5, 0.4, 0.1]}],
                "robot_start": [0.0, 0.0, 0.75],
                "planned_base_path": [[math.cos(a / 10) - 1, math.sin(a / 10)] for a in range(64)],
            },
            sim_time=0.0,
        )
        trace.write("/planner/command", {"text": meta["command"], "source": "cli"}, sim_time=0.0)
        trace.write(
            "/planner/goal",
            {"predicates": [["at", "mug_red", "user"]], "text": "a mug of coffee"},
            sim_time=0.0,
        )
        version = 1
        plan = [_subgoal(i, version) for i in range(n_subgoals)]
        trace.write(
            "/planner/plan",
            {"plan_version": 1, "reason": "initial", "trigger": "initial", "subgoals": plan},
            sim_time=0.0,
        )
        period = 1.0 / telemetry_hz
        sample = 0
        for i in range(n_subgoals):
            t0, t1 = i * subgoal_s, (i + 1) * subgoal_s
            sg = _subgoal(i, version)
            trace.write(
                "/planner/subgoal",
                {"event": "start", "index": i, "plan_version": version, "subgoal": sg},
                sim_time=t0,
            )
            for k in range(4):
                trace.write(
                    "/motion/plan",
                    {
                        "skill": sg["skill"],
                        "motion": f"step{k}",
                        "joint_names": [f"left_j{j}" for j in range(7)],
                        "waypoints": [[0.1 * j + 0.01 * w for j in range(7)] for w in range(10)],
                        "planning_time_s": 0.05,
                        "planner": "RRTConnect",
                        "status": "exact_solution",
                    },
                    sim_time=t0 + k * subgoal_s / 4,
                )
            while sample * period < t1:
                t = sample * period
                trace.write(
                    "/control/telemetry",
                    {
                        "label": f"{sg['skill']}:step{int((t - t0) // (subgoal_s / 4))}",
                        "arm_tracking_error_max": 0.02 + 0.01 * math.sin(t),
                        "arm_tracking_error_rms": 0.01,
                        "torque_abs_max": 20 + 5 * math.sin(t / 3),
                        "base_height": 0.74,
                        "base_linvel": [0.1 * math.cos(t / 10), 0.1 * math.sin(t / 10), 0.0],
                        "base_pos": [math.cos(t / 100) - 1, math.sin(t / 100), 0.74],
                        "policy_latency_us": 150 + 50 * (sample % 7 == 0),
                        "watchdog": "ok",
                    },
                    sim_time=t,
                )
                sample += 1
            failed = i % 20 == 19
            result = {
                "succeeded": not failed,
                "reason": "grasp_lost" if failed else None,
                "message": "the mug slipped" if failed else "",
                "observations": {"object": "mug_red", "rise_m": 0.07},
                "sim_time_start": t0,
                "sim_time_end": t1,
            }
            trace.write(
                "/planner/subgoal",
                {"event": "result", "index": i, "plan_version": version, "subgoal": sg, "result": result},
                sim_time=t1,
            )
            if failed:
                trace.write(
                    "/safety/event",
                    {"kind": "torque_limit", "detail": "right elbow clamped", "severity": "warning"},
                    sim_time=t1,
                )
                trace.log("WARNING", "grasp lost, replanning", name="planner", sim_time=t1)
                version += 1
                trace.write(
                    "/planner/plan",
                    {
                        "plan_version": version,
                        "reason": f"step {i} failed (grasp_lost)",
                        "trigger": "replan",
                        "subgoals": plan[i:],
                    },
                    sim_time=t1,
                )
    return path
