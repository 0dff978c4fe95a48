"""What `humanoid plan "COMMAND" --json` prints: the grounded goal and the validated subgoals.

Planning only: nothing runs. Without an observation the scene is read as authored
(planner.scene_snapshot), so the command works with no simulator running.
"""

from __future__ import annotations

import time
from typing import Any

from bridge.messages import WorldObservation
from planner.backends.base import PlannerBackend, validate_plan
from planner.backends.embedded import EmbeddedBackend
from planner.scene_snapshot import scene_observation
from planner.world_model import facts_from_observation


def plan_command(
    command: str,
    observation: WorldObservation | None = None,
    backend: PlannerBackend | None = None,
    scene: str = "kitchen",
    can_walk: bool = True,
) -> dict[str, Any]:
    """Ground and plan `command` in `observation`; raises `GroundingError`/`PlanningError` (both
    `PlannerError`) with a message for the operator when it cannot."""
    backend = backend or EmbeddedBackend()
    t0 = time.perf_counter()
    goal = backend.ground(command)
    t1 = time.perf_counter()
    obs = observation if observation is not None else scene_observation(scene)
    facts = facts_from_observation(obs, scene=scene, can_walk=can_walk)
    proposed = backend.propose(goal, facts)
    plan = validate_plan(proposed, goal, facts)
    t2 = time.perf_counter()
    return {
        "command": command,
        "backend": backend.name,
        "goal": goal.to_dict(),
        "goal_text": goal.describe(),
        "binding": plan.binding,
        "subgoals": [s.to_dict() for s in plan.subgoals],
        "actions": proposed.actions,
        "backend_notes": list(proposed.notes),
        "timings_ms": {"ground": round((t1 - t0) * 1e3, 2), "plan": round((t2 - t1) * 1e3, 2)},
    }


def format_plan(result: dict[str, Any]) -> str:
    """A human-readable rendering of `plan_command`'s result for the terminal."""
    lines = [f"goal: {result['goal']['text']}"]
    lines += [f"  note: {n}" for n in result["goal"]["notes"]]
    for s in result["subgoals"]:
        args = ", ".join(f"{k}={v}" for k, v in s["args"].items())
        lines.append(f"  {s['index']}. {s['skill']}({args})")
    if not result["subgoals"]:
        lines.append("  (nothing to do: the goal already holds)")
    return "\n".join(lines)
