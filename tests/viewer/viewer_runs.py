"""A short replanning run, written with the real TraceWriter, for the viewer's tests."""

from __future__ import annotations

from pathlib import Path

from humanoid.trace import TraceWriter


def write_replan_run(path: Path) -> Path:
    """A short run whose grasp fails once and the planner replans (what the page must explain)."""
    pick = {"skill": "pick", "args": {"obj": "mug_red"}, "success": [["holding", "mug_red"]], "index": 0}
    place = {"skill": "place", "args": {"obj": "mug_red", "target": "user"}, "index": 1}
    with TraceWriter(
        path, {"command": "bring me the red mug", "robot": "reference_humanoid", "scene": "kitchen"}
    ) as t:
        t.write("/planner/command", {"text": "bring me the red mug", "source": "cli"}, sim_time=0.0)
        t.write(
            "/planner/plan",
            {"plan_version": 1, "reason": "initial", "trigger": "initial", "subgoals": [pick, place]},
            sim_time=0.0,
        )
        t.write(
            "/planner/subgoal",
            {"event": "start", "index": 0, "plan_version": 1, "subgoal": pick},
            sim_time=0.0,
        )
        for i in range(30):
            t.write(
                "/control/telemetry",
                {
                    "label": "pick:approach",
                    "arm_tracking_error_max": 0.01 * i,
                    "torque_abs_max": 10.0 + i,
                    "base_linvel": [0.0, 0.0, 0.0],
                    "base_pos": [0.01 * i, 0.0, 0.74],
                    "policy_latency_us": 150.0,
                },
                sim_time=0.1 * i,
            )
        result = {
            "succeeded": False,
            "reason": "grasp_lost",
            "message": "the mug slipped out of the left hand",
            "observations": {"object": "mug_red"},
            "sim_time_start": 0.0,
            "sim_time_end": 3.0,
        }
        t.write(
            "/planner/subgoal",
            {"event": "result", "index": 0, "plan_version": 1, "subgoal": pick, "result": result},
            sim_time=3.0,
        )
        t.write(
            "/safety/event",
            {"kind": "torque_limit", "detail": "left elbow clamped", "severity": "warning"},
            sim_time=3.0,
        )
        t.write(
            "/planner/event",
            {"event": "operator_approval", "message": "operator approved the replan"},
            sim_time=3.0,
        )
        regrasp = {**pick, "args": {"obj": "mug_red", "grasp": "side"}}
        t.write(
            "/planner/plan",
            {
                "plan_version": 2,
                "reason": "step 0 pick(obj=mug_red) failed (grasp_lost)",
                "trigger": "replan",
                "failure_reason": "grasp_lost",
                "subgoals": [regrasp, place],
            },
            sim_time=3.0,
        )
        for i, sg in enumerate((regrasp, place)):
            t.write(
                "/planner/subgoal",
                {"event": "start", "index": i, "plan_version": 2, "subgoal": sg},
                sim_time=3.0 + 2 * i,
            )
            ok = {
                "succeeded": True,
                "reason": None,
                "sim_time_start": 3.0 + 2 * i,
                "sim_time_end": 5.0 + 2 * i,
            }
            t.write(
                "/planner/subgoal",
                {"event": "result", "index": i, "plan_version": 2, "subgoal": sg, "result": ok},
                sim_time=5.0 + 2 * i,
            )
    return path
