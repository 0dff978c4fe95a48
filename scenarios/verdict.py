"""The verdict on one run of a scenario (one seed): what happened, judged against what it expects.

Everything comes from the run's trace, so a verdict can be re-derived later from the file the
operator opens. Outcomes: `success` (the goal held), `failed` (the task failed after the robot
acted), `refused` (the planner declined before anything moved), `error` (the infrastructure
broke: a process died, the run was killed at its wall-time limit, no trace).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bridge.messages import ObjectObservation, WorldObservation
from humanoid.trace.reader import Trace, TraceError, read_trace
from planner.goal import Facts
from scenarios.predicates import Check, judge_never, judge_world
from scenarios.scenario import Scenario

# A run that ends with one of these lost a process: the infrastructure broke, not the task.
_INFRA_WORDS = ("process died", "process exited", "robot stopped answering")


@dataclass
class CaseResult:
    """One scenario x seed."""

    scenario: str
    seed: int
    outcome: str  # success | failed | refused | error | skipped
    passed: bool
    infra_error: bool = False  # a crash or time-out of the infrastructure (JUnit <error>)
    reason: str = ""
    sim_time_s: float | None = None
    wall_time_s: float | None = None
    replans: int = 0
    checks: list[Check] = field(default_factory=list)
    trace: str | None = None
    trace_readable: bool = False

    @property
    def failing(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    @property
    def worst(self) -> Check | None:
        return self.failing[0] if self.failing else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CaseResult:
        d = dict(d)
        d["checks"] = [Check(**c) for c in d.get("checks", [])]
        return cls(**d)


def final_facts(trace: Trace, scene: str) -> Facts | None:
    from planner.world_model import facts_from_observation

    final = trace.topic("/world/final")
    if not final:
        return None
    p = final[-1].payload
    objects = [ObjectObservation(o["id"], o["pos"], o["quat"], o.get("attrs", {})) for o in p["objects"]]
    return facts_from_observation(
        WorldObservation(seq=0, sim_time=p.get("sim_time") or 0.0, objects=objects), scene=scene
    )


def _outcome(trace: Trace, end: dict[str, Any] | None, killed: str | None) -> tuple[str, bool, str]:
    """(outcome, infrastructure error?, reason) from the trace's end record."""
    if killed:
        return "error", True, killed
    if end is None:
        return "error", True, "the run ended without closing its trace (crashed)"
    reason = str(end.get("reason", ""))
    if end.get("exit_code") == 2 or end.get("outcome") == "refused":
        return "refused", False, reason
    if end.get("success"):
        return "success", False, reason
    if "has fallen" in reason or "fall detected" in reason:
        return "failed", False, reason  # the safety layer stopped a fallen robot: a task outcome
    planner_ended = any(m.payload.get("event") in ("done", "failed") for m in trace.topic("/planner/event"))
    if not planner_ended or any(w in reason for w in _INFRA_WORDS):
        return "error", True, reason  # the run stopped under the planner, or a process was lost
    if not trace.topic("/planner/subgoal"):
        return "refused", False, reason  # the planner gave up before the robot moved
    return "failed", False, reason


def judge(
    sc: Scenario, seed: int, trace_path: Path, killed: str | None = None, wall_time_s: float | None = None
) -> CaseResult:
    """Judge one run from its trace; never raises for a missing or broken trace."""
    try:
        trace = read_trace(trace_path)
    except TraceError as exc:
        reason = killed or f"no readable trace: {exc}"
        return CaseResult(
            sc.id, seed, "error", False, True, reason, wall_time_s=wall_time_s, trace=str(trace_path)
        )
    end = trace.end
    outcome, infra, reason = _outcome(trace, end, killed)
    facts = final_facts(trace, sc.scene)
    replans = sum(1 for m in trace.topic("/planner/plan") if m.payload.get("trigger") == "replan")
    checks = [
        Check(
            "expect", "outcome", sc.expect.outcome, f"{outcome}: {reason}"[:300], outcome == sc.expect.outcome
        )
    ]
    checks += judge_never(sc.success.never, trace, facts)
    if sc.expect.outcome == "success" or facts is not None:
        checks += judge_world("all_of", sc.success.all_of, facts)
    if sc.min_replans():
        checks.append(
            Check("expect", "replans", f">= {sc.min_replans()}", str(replans), replans >= sc.min_replans())
        )
    if sc.expect.reason_contains:
        want = sc.expect.reason_contains
        checks.append(
            Check("expect", "reason", f"contains '{want}'", reason[:300], want.lower() in reason.lower())
        )
    optional = judge_world("optional", sc.success.optional, facts) if facts is not None else []
    for c in optional:
        c.ok = True  # reported, never failing
    times = [m.sim_time for m in trace.messages if m.sim_time is not None]
    sim_time = (end or {}).get("sim_time_s") or (max(times) if times else None)
    if sc.expect.outcome == "error":  # an expected error still owes the operator a readable trace
        n = len(trace.messages)
        checks.append(Check("expect", "trace readable", "messages up to the error", f"{n} messages", n > 1))
    passed = all(c.ok for c in checks)
    return CaseResult(
        scenario=sc.id,
        seed=seed,
        outcome=outcome,
        passed=passed,
        infra_error=infra and sc.expect.outcome != "error",
        reason=reason,
        sim_time_s=sim_time,
        wall_time_s=wall_time_s if wall_time_s is not None else (end or {}).get("wall_time_s"),
        replans=replans,
        checks=checks + optional,
        trace=str(trace_path),
        trace_readable=bool(trace.messages),
    )
