"""A small but complete run trace (a failed grasp and a replan) shared by the trace tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from humanoid.contracts import FailureReason, SkillResult, Subgoal
from humanoid.trace import TraceWriter

META = {
    "command": "make me a coffee",
    "config": {"planner": {"backend": "symbolic"}, "sim": {"lockstep": True}},
    "robot": "reference_humanoid",
    "scene": "kitchen",
    "seed": 7,
}


def write_sample_run(path: Path, *, close: bool = True) -> TraceWriter:
    navigate = Subgoal("navigate", {"target": "counter"}, index=0)
    pick = Subgoal("pick", {"obj": "mug_red"}, (("holding", "mug_red"),), index=1)
    trace = TraceWriter(path, META)
    trace.write("/planner/command", {"text": "make me a coffee", "source": "cli"}, sim_time=0.0)
    trace.write(
        "/planner/goal", {"predicates": [["filled", "mug_red"]], "text": "a filled mug"}, sim_time=0.0
    )
    trace.write(
        "/planner/plan",
        {"plan_version": 1, "reason": "initial", "trigger": "initial", "subgoals": [navigate, pick]},
        sim_time=0.0,
    )
    trace.write("/planner/subgoal", {"event": "start", "index": 0, "subgoal": navigate}, sim_time=0.0)
    for i in range(4):  # the fields control/loop.py samples
        trace.write(
            "/control/telemetry",
            {
                "label": "navigate",
                "arm_tracking_error_max": 0.01 * i,
                "arm_tracking_error_rms": 0.005 * i,
                "torque_abs_max": np.float32(40.0 + i),
                "base_linvel": np.array([0.3, 0.0, 0.0]),
                "policy_latency_us": 450.0,
                "watchdog": False,
            },
            sim_time=i * 1.0,
        )
    ok = SkillResult(navigate, True, sim_time_start=0.0, sim_time_end=4.0, wall_time_s=1.0)
    trace.write(
        "/planner/subgoal", {"event": "result", "index": 0, "subgoal": navigate, "result": ok}, sim_time=4.0
    )
    trace.write("/planner/subgoal", {"event": "start", "index": 1, "subgoal": pick}, sim_time=4.0)
    trace.write(
        "/motion/plan",
        {
            "skill": "pick",
            "subgoal_index": 1,
            "joint_names": ["shoulder_pitch", "elbow"],
            "waypoints": np.linspace(0.0, 1.0, 10).reshape(5, 2),
            "planning_time_s": 0.12,
            "planner": "RRTConnect",
            "status": "exact_solution",
        },
        sim_time=4.1,
    )
    trace.write(
        "/safety/event",
        {"kind": "torque_limit", "detail": "elbow torque clamped"},
        sim_time=5.0,
    )
    lost = SkillResult(
        pick, False, FailureReason.GRASP_LOST, "mug slipped", sim_time_start=4.0, sim_time_end=6.5
    )
    trace.write(
        "/planner/subgoal", {"event": "result", "index": 1, "subgoal": pick, "result": lost}, sim_time=6.5
    )
    trace.write(
        "/planner/plan",
        {
            "plan_version": 2,
            "reason": "grasp_lost on pick(obj=mug_red)",
            "trigger": "replan",
            "failure_reason": "grasp_lost",
            "subgoals": [pick],
        },
        sim_time=6.5,
    )
    trace.timing("replan", 0.05, sim_time=6.5)
    trace.log("WARNING", "grasp lost, replanning", name="planner", sim_time=6.5)
    if close:
        trace.close("failed", 1, "pick kept failing")
    return trace


@pytest.fixture
def sample_run(tmp_path: Path) -> Path:
    path = tmp_path / "run.mcap"
    write_sample_run(path)
    return path
