"""Typed contracts between the planner and the motion layer (DESIGN.md, "Layer contracts").

A `Subgoal` goes down, a `SkillResult` comes back up. These never cross a process boundary
as Python objects: they are plain dataclasses with `to_dict`/`from_dict` so the trace and
the wire can carry them as JSON or msgpack.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

CONTRACT_VERSION = 1


class FailureReason(StrEnum):
    """The closed set of reasons a skill may fail with; the planner re-plans from these."""

    NOT_FOUND = "not_found"
    UNREACHABLE = "unreachable"
    NO_COLLISION_FREE_PATH = "no_collision_free_path"
    GRASP_FAILED = "grasp_failed"
    GRASP_LOST = "grasp_lost"
    APPLIANCE_UNAVAILABLE = "appliance_unavailable"
    PRECONDITION_FAILED = "precondition_failed"
    TIMEOUT = "timeout"
    SAFETY_STOP = "safety_stop"
    BRIDGE_DOWN = "bridge_down"


@dataclass(frozen=True)
class Subgoal:
    """One step of a plan: a skill from the skill library applied to world-model ids.

    `args` maps the skill's parameter names to object or place ids (e.g. {"obj": "mug_red",
    "target": "coffee_machine"}); `success` is a list of symbolic predicates, each a tuple of
    strings like ("filled", "mug_red"), that must hold in the observed world afterwards.
    """

    skill: str
    args: dict[str, str]
    success: tuple[tuple[str, ...], ...] = ()
    time_budget_s: float = 30.0
    index: int = 0
    version: int = CONTRACT_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "skill": self.skill,
            "args": dict(self.args),
            "success": [list(p) for p in self.success],
            "time_budget_s": self.time_budget_s,
            "index": self.index,
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Subgoal:
        return cls(
            skill=str(d["skill"]),
            args={str(k): str(v) for k, v in d["args"].items()},
            success=tuple(tuple(str(x) for x in p) for p in d.get("success", ())),
            time_budget_s=float(d.get("time_budget_s", 30.0)),
            index=int(d.get("index", 0)),
            version=int(d.get("version", CONTRACT_VERSION)),
        )

    def describe(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.args.items())
        return f"{self.skill}({args})"


@dataclass
class SkillResult:
    """What the motion layer reports after trying a subgoal.

    `observations` explains a failure in terms the planner can act on, e.g.
    {"object": "coffee_machine", "detail": "not in the scene"} for NOT_FOUND.
    """

    subgoal: Subgoal
    succeeded: bool
    reason: FailureReason | None = None
    message: str = ""
    observations: dict[str, Any] = field(default_factory=dict)
    sim_time_start: float = 0.0
    sim_time_end: float = 0.0
    wall_time_s: float = 0.0
    version: int = CONTRACT_VERSION

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["subgoal"] = self.subgoal.to_dict()
        d["reason"] = self.reason.value if self.reason else None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SkillResult:
        return cls(
            subgoal=Subgoal.from_dict(d["subgoal"]),
            succeeded=bool(d["succeeded"]),
            reason=FailureReason(d["reason"]) if d.get("reason") else None,
            message=str(d.get("message", "")),
            observations=dict(d.get("observations", {})),
            sim_time_start=float(d.get("sim_time_start", 0.0)),
            sim_time_end=float(d.get("sim_time_end", 0.0)),
            wall_time_s=float(d.get("wall_time_s", 0.0)),
            version=int(d.get("version", CONTRACT_VERSION)),
        )
