"""The planner's loop as a LangGraph graph: ground -> plan -> dispatch -> observe -> ...

    START -> ground -> plan -> dispatch -> observe -> dispatch   (next subgoal)
               |        |                      |---> replan -> plan   (a step failed or the goal
               v        v                      |                      is not observed; bounded)
              fail    done / fail              |---> done / fail

Each node is a method of `PlannerNodes` (a function from the state to an update), so each can
be tested on its own; `build_graph` wires them; `run_planner` is the entry point. The only
things that move the robot go through the injected `SkillRunner`; everything the planner
decides is reported through `on_event(kind, payload)` (the lead wires it to the trace).
"""

from __future__ import annotations

import logging
import operator
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Protocol, TypedDict

from langgraph.graph import END, START, StateGraph

from bridge.messages import WorldObservation
from humanoid.contracts import FailureReason, SkillResult, Subgoal
from planner.backends.base import PlannerBackend, validate_plan
from planner.backends.embedded import EmbeddedBackend
from planner.errors import PlannerError
from planner.goal import Fact, Facts, Goal, format_fact
from planner.symbolic import default_domain
from planner.world_model import facts_from_observation, predicate_holds

log = logging.getLogger(__name__)

EventSink = Callable[[str, dict[str, Any]], None]
MAX_REPLANS = 3
# The planner cannot fix these by thinking again; the layers below have stopped the robot.
FATAL = frozenset({FailureReason.SAFETY_STOP, FailureReason.BRIDGE_DOWN})
# These say the thing itself is unusable from here: later plans must avoid it.
RULES_OUT = frozenset(
    {
        FailureReason.NOT_FOUND,
        FailureReason.UNREACHABLE,
        FailureReason.NO_COLLISION_FREE_PATH,
        FailureReason.APPLIANCE_UNAVAILABLE,
    }
)


class SkillRunner(Protocol):
    """The motion layer as the planner sees it."""

    def run(self, subgoal: Subgoal) -> SkillResult: ...

    def observe(self) -> WorldObservation: ...


@dataclass
class PlanRecord:
    """One plan version and why it was made."""

    version: int
    reason: str
    subgoals: list[Subgoal]
    binding: dict[str, str] = field(default_factory=dict)
    goal_facts: tuple[Fact, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "reason": self.reason,
            "subgoals": [s.to_dict() for s in self.subgoals],
            "binding": dict(self.binding),
            "goal_facts": [list(f) for f in self.goal_facts],
        }


@dataclass
class PlannerOutcome:
    success: bool
    goal: Goal | None
    plans: list[PlanRecord]
    results: list[SkillResult]
    message: str
    replans: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "success": self.success,
            "goal": self.goal.to_dict() if self.goal else None,
            "plans": [p.to_dict() for p in self.plans],
            "results": [r.to_dict() for r in self.results],
            "message": self.message,
            "replans": self.replans,
        }


class PlannerState(TypedDict, total=False):
    command: str
    goal: Goal | None
    observation: WorldObservation | None
    facts: Facts  # observed + believed, minus what failures ruled out: what the next plan starts from
    belief: Facts  # facts no sensor reports (a hot kettle) that executed steps made true
    ruled_out: frozenset[str]  # objects, places, appliances a failure showed unusable
    plan: list[Subgoal]
    predicted: list[Facts]  # the domain's state before each step of `plan`
    version: int
    step: int
    last_result: SkillResult | None
    failure: str  # why the current plan stopped; empty while it runs
    failed_subgoal: dict[str, Any] | None
    failure_reason: str | None
    replans: int
    status: Literal["running", "done", "failed"]
    message: str
    plans: Annotated[list[PlanRecord], operator.add]
    results: Annotated[list[SkillResult], operator.add]


class PlannerNodes:
    """The graph's nodes and routes, bound to a runner, a backend and an event sink."""

    def __init__(
        self,
        runner: SkillRunner,
        backend: PlannerBackend | None = None,
        on_event: EventSink | None = None,
        max_replans: int = MAX_REPLANS,
    ) -> None:
        self.runner = runner
        self.backend = backend or EmbeddedBackend()
        self.on_event = on_event
        self.max_replans = max_replans
        self.domain = default_domain()

    def emit(self, kind: str, payload: dict[str, Any]) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(kind, payload)
        except Exception:  # a broken trace or terminal must not strand the robot mid-plan
            log.exception("planner event sink failed on %s", kind)

    def world_facts(self, obs: WorldObservation, belief: Facts, ruled_out: frozenset[str]) -> Facts:
        seen = facts_from_observation(obs, config=self.domain.config)
        return frozenset(
            f
            for f in seen | belief
            if not (f[0] in ("accessible", "reachable", "powered") and f[1] in ruled_out)
        )

    # ---- nodes ---------------------------------------------------------------------------
    def ground(self, state: PlannerState) -> PlannerState:
        command = state["command"]
        self.emit("command", {"text": command, "backend": self.backend.name})
        try:
            goal = self.backend.ground(command)
        except PlannerError as e:
            return {"goal": None, "status": "failed", "message": str(e)}
        self.emit(
            "goal",
            goal.to_dict() | {"predicates": [list(f) for f in goal.facts], "backend": self.backend.name},
        )
        return {"goal": goal, "status": "running"}

    def plan(self, state: PlannerState) -> PlannerState:
        goal = state["goal"]
        assert goal is not None
        belief = state.get("belief", frozenset())
        ruled_out = state.get("ruled_out", frozenset())
        obs = state.get("observation") or self.runner.observe()
        facts = self.world_facts(obs, belief, ruled_out)
        version = state.get("version", 0) + 1
        reason = state.get("failure") or "initial plan"
        t0 = time.perf_counter()
        try:
            proposed = self.backend.propose(goal, facts)
            plan = validate_plan(proposed, goal, facts, self.domain)
        except PlannerError as e:
            message = str(e) if version == 1 else f"re-plan {version - 1} found no plan: {e}"
            return {"observation": obs, "facts": facts, "status": "failed", "message": message}
        record = PlanRecord(version, reason, plan.subgoals, plan.binding, plan.goal_facts)
        # the first plan is a "plan" event, every later one a "replan" with the same fields
        self.emit(
            "plan" if version == 1 else "replan",
            {
                "plan_version": version,
                "reason": reason,
                "trigger": "initial" if version == 1 else "replan",
                "failed_subgoal": state.get("failed_subgoal"),
                "failure_reason": state.get("failure_reason"),
                "subgoals": [sg.to_dict() for sg in plan.subgoals],
                "binding": plan.binding,
                "goal_facts": [list(f) for f in plan.goal_facts],
                "actions": proposed.actions,
                "backend": self.backend.name,
                "planning_time_s": time.perf_counter() - t0,
                "sim_time": obs.sim_time,
            },
        )
        return {
            "observation": obs,
            "facts": facts,
            "plan": plan.subgoals,
            "predicted": plan.predicted,
            "version": version,
            "step": 0,
            "failure": "",
            "failed_subgoal": None,
            "failure_reason": None,
            "plans": [record],
        }

    def dispatch(self, state: PlannerState) -> PlannerState:
        sg = state["plan"][state["step"]]
        version = state["version"]
        self.emit("subgoal_start", {"plan_version": version, "index": sg.index, "subgoal": sg.to_dict()})
        result = self.runner.run(sg)
        self.emit(
            "subgoal_result",
            {
                "plan_version": version,
                "index": sg.index,
                "subgoal": sg.to_dict(),
                "result": result.to_dict(),
                "sim_time": result.sim_time_end,
            },
        )
        return {"last_result": result, "results": [result]}

    def observe(self, state: PlannerState) -> PlannerState:
        result = state["last_result"]
        assert result is not None
        sg, step = state["plan"][state["step"]], state["step"]
        obs = self.runner.observe()
        belief = state.get("belief", frozenset())
        ruled_out = state.get("ruled_out", frozenset())
        if not result.succeeded:
            reason = result.reason.value if result.reason else "unknown"
            failure = f"step {step} {sg.describe()} failed ({reason}): {result.message}".rstrip(": ")
            if result.reason in RULES_OUT:
                ruled_out = ruled_out | {self._blame(sg, result)}
            update: PlannerState = {
                "failure": failure,
                "ruled_out": ruled_out,
                "failed_subgoal": sg.to_dict(),
                "failure_reason": reason,
            }
        else:
            seen = self.world_facts(obs, frozenset(), frozenset())
            missing = [p for p in sg.success if not predicate_holds(p, seen)]
            if missing:
                failure = (
                    f"step {step} {sg.describe()} reported success but "
                    f"{', '.join(format_fact(p) for p in missing)} is not observed"
                )
                update = {
                    "failure": failure,
                    "failed_subgoal": sg.to_dict(),
                    "failure_reason": "success_not_observed",
                }
            else:
                after = state["predicted"][step + 1]
                belief = frozenset(f for f in after if f[0] in self.domain.config.believed)
                update = {"step": step + 1, "belief": belief}
        facts = self.world_facts(obs, belief, ruled_out)
        return update | {"observation": obs, "facts": facts}

    def replan(self, state: PlannerState) -> PlannerState:
        # the new plan itself is announced by `plan` as a "replan" event
        log.info(
            "re-planning (%d of %d): %s", state.get("replans", 0) + 1, self.max_replans, state["failure"]
        )
        return {"replans": state.get("replans", 0) + 1}

    def done(self, state: PlannerState) -> PlannerState:
        goal = state["goal"]
        assert goal is not None
        message = f"done: {goal.describe()} holds in the observed world"
        self.emit(
            "done",
            {
                "message": message,
                "plan_versions": state.get("version", 0),
                "replans": state.get("replans", 0),
            },
        )
        return {"status": "done", "message": message}

    def fail(self, state: PlannerState) -> PlannerState:
        message = state.get("message", "")
        if not message:
            failure = state.get("failure", "failed")
            exhausted = state.get("replans", 0) >= self.max_replans
            message = (
                f"gave up after {self.max_replans} re-plans; last failure: {failure}"
                if exhausted
                else failure
            )
        self.emit(
            "failed",
            {
                "message": message,
                "plan_versions": state.get("version", 0),
                "replans": state.get("replans", 0),
            },
        )
        return {"status": "failed", "message": message}

    # ---- routes --------------------------------------------------------------------------
    def after_ground(self, state: PlannerState) -> str:
        return "fail" if state.get("status") == "failed" else "plan"

    def after_plan(self, state: PlannerState) -> str:
        if state.get("status") == "failed":
            return "fail"
        return "dispatch" if state["plan"] else "done"

    def after_observe(self, state: PlannerState) -> str:
        result = state["last_result"]
        assert result is not None and state["goal"] is not None
        if not result.succeeded and result.reason in FATAL:
            return "fail"
        if not state.get("failure"):
            if state["step"] < len(state["plan"]):
                return "dispatch"
            if state["goal"].holds(state["facts"]):
                return "done"
            return "goal_not_observed"
        return "replan" if state.get("replans", 0) < self.max_replans else "fail"

    def goal_not_observed(self, state: PlannerState) -> PlannerState:
        goal = state["goal"]
        assert goal is not None
        return {
            "failure": f"plan v{state['version']} finished but {goal.describe()} is not observed",
            "failed_subgoal": None,
            "failure_reason": "goal_not_observed",
        }

    @staticmethod
    def _blame(sg: Subgoal, result: SkillResult) -> str:
        """The id a failure is about: what perception named, else the thing the skill acted on."""
        named = result.observations.get("object")
        if isinstance(named, str) and named:
            return named
        if sg.skill == "pick" or "target" not in sg.args:
            return sg.args.get("obj", "")
        return sg.args["target"]


def build_graph(nodes: PlannerNodes) -> Any:
    """The compiled graph; its shape is the planner's control flow."""
    g = StateGraph(PlannerState)
    g.add_node("ground", nodes.ground)
    g.add_node("plan", nodes.plan)
    g.add_node("dispatch", nodes.dispatch)
    g.add_node("observe", nodes.observe)
    g.add_node("goal_not_observed", nodes.goal_not_observed)
    g.add_node("replan", nodes.replan)
    g.add_node("done", nodes.done)
    g.add_node("fail", nodes.fail)
    g.add_edge(START, "ground")
    g.add_conditional_edges("ground", nodes.after_ground, ["plan", "fail"])
    g.add_conditional_edges("plan", nodes.after_plan, ["dispatch", "done", "fail"])
    g.add_edge("dispatch", "observe")
    g.add_conditional_edges(
        "observe", nodes.after_observe, ["dispatch", "done", "goal_not_observed", "replan", "fail"]
    )
    g.add_conditional_edges(
        "goal_not_observed",
        lambda s: "replan" if s.get("replans", 0) < nodes.max_replans else "fail",
        ["replan", "fail"],
    )
    g.add_edge("replan", "plan")
    g.add_edge("done", END)
    g.add_edge("fail", END)
    return g.compile()


def run_planner(
    command: str,
    runner: SkillRunner,
    on_event: EventSink | None = None,
    backend: PlannerBackend | None = None,
    max_replans: int = MAX_REPLANS,
) -> PlannerOutcome:
    """Ground `command`, plan, execute through `runner`, re-plan on failure; never raises a `PlannerError`."""
    nodes = PlannerNodes(runner, backend, on_event, max_replans)
    graph = build_graph(nodes)
    # each subgoal takes two graph steps (dispatch, observe); leave room for every allowed plan
    final: PlannerState = graph.invoke(
        {"command": command, "plans": [], "results": []}, {"recursion_limit": 10_000}
    )
    return PlannerOutcome(
        success=final.get("status") == "done",
        goal=final.get("goal"),
        plans=list(final.get("plans", [])),
        results=list(final.get("results", [])),
        message=final.get("message", ""),
        replans=final.get("replans", 0),
    )
