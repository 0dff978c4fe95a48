"""The planner's loop as a LangGraph graph: ground -> plan -> dispatch -> observe -> ...

    START -> ground -> plan -> dispatch -> observe -> dispatch   (next subgoal)
               |        |                      |---> replan -> plan   (a step failed or the goal
               v        v                      |                      is not observed; bounded)
              fail    done / fail              |---> done / fail

With operator supervision (`approve=True`) an `approve` node sits between plan and dispatch:
it pauses the graph (LangGraph `interrupt`) with the plan, and the operator approves, edits
(the edited steps are validated like any backend's) or rejects it; an ambiguous command asks
the operator which thing is meant through the same channel. A checkpointer (SQLite,
`sqlite_checkpointer`) keeps every step, so a run interrupted there resumes (`resume_planner`).

Each node is a method of `PlannerNodes` (a function from the state to an update), so each can
be tested on its own; `build_graph` wires them; `run_planner` is the entry point. The only
things that move the robot go through the injected `SkillRunner`; everything the planner
decides is reported through `on_event(kind, payload)` (the lead wires it to the trace).
"""

from __future__ import annotations

import logging
import operator
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Protocol, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from bridge.messages import WorldObservation
from humanoid.contracts import FailureReason, SkillResult, Subgoal
from planner.backends.base import PlannerBackend, ProposedPlan, validate_plan
from planner.backends.embedded import EmbeddedBackend
from planner.errors import AmbiguityError, PlannerError, PlanValidationError
from planner.goal import Fact, Facts, Goal, format_fact
from planner.symbolic import default_domain
from planner.world_model import facts_from_observation, predicate_holds

log = logging.getLogger(__name__)

EventSink = Callable[[str, dict[str, Any]], None]
# Answers the graph's questions: {"kind": "plan", ...} -> {"action": "approve" | "reject" | "edit",
# "reason": str, "subgoals": [{"skill", "args"}]}; {"kind": "choose", "options"} -> {"choice": id}
Operator = Callable[[dict[str, Any]], dict[str, Any]]
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
    """The motion layer as the planner sees it. A runner may also list `known_skills`; without
    `navigate` among them the planner plans only where the robot stands."""

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
    not_found: frozenset[str]  # things perception placed where a skill then did not find them
    searched: frozenset[str]  # storage already opened to look for them
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
        approve: bool = False,
    ) -> None:
        self.runner = runner
        self.backend = backend or EmbeddedBackend()
        self.on_event = on_event
        self.max_replans = max_replans
        self.approve = approve
        self.domain = default_domain()
        self.substitutable = load_substitutes()
        # walking is planned only when the motion layer can do it (a runner that does not list
        # its skills is taken to have them all, as the symbolic test runner does)
        self.can_walk = "navigate" in getattr(runner, "known_skills", ("navigate",))

    def emit(self, kind: str, payload: dict[str, Any]) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(kind, payload)
        except Exception:  # a broken trace or terminal must not strand the robot mid-plan
            log.exception("planner event sink failed on %s", kind)

    def world_facts(self, obs: WorldObservation, belief: Facts, ruled_out: frozenset[str]) -> Facts:
        seen = facts_from_observation(obs, config=self.domain.config, can_walk=self.can_walk)
        # a ruled-out place can no longer be worked at or walked to
        return frozenset(
            f
            for f in seen | belief
            if not (f[0] in ("accessible", "station-of", "station", "powered") and f[1] in ruled_out)
        )

    # ---- nodes ---------------------------------------------------------------------------
    def ground(self, state: PlannerState) -> PlannerState:
        command = state["command"]
        self.emit("command", {"text": command, "backend": self.backend.name})
        try:
            goal = self.backend.ground(command)
        except AmbiguityError as e:
            if not self.approve:
                return {"goal": None, "status": "failed", "message": f"{e} (run with --approve to choose)"}
            answer = interrupt({"kind": "choose", "question": str(e), "options": e.options})
            choice = str(answer.get("choice", "")) if isinstance(answer, dict) else ""
            if choice not in e.options:
                return {"goal": None, "status": "failed", "message": f"no choice among {e.options}: {e}"}
            grounder = getattr(self.backend, "grounder", None)
            try:
                goal = (
                    grounder.ground(command, choices=[choice]) if grounder else self.backend.ground(command)
                )
            except PlannerError as e2:
                return {"goal": None, "status": "failed", "message": str(e2)}
            self.emit("operator", {"kind": "choose", "choice": choice, "options": e.options})
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
        update: PlannerState = {}
        try:
            proposed = self.backend.propose(goal, facts)
            plan = validate_plan(proposed, goal, facts, self.domain)
        except PlannerError as e:
            alternative = substitute_goal(goal, facts, ruled_out, self.substitutable)
            search = None if alternative is not None else self._search(goal, facts, state)
            if search is not None:
                return search | {"observation": obs, "facts": facts, "version": version}
            try:
                if alternative is None:
                    raise e
                goal, why = alternative
                proposed = self.backend.propose(goal, facts)
                plan = validate_plan(proposed, goal, facts, self.domain)
            except PlannerError as e2:
                message = str(e2) if version == 1 else f"re-plan {version - 1} found no plan: {e2}"
                return {"observation": obs, "facts": facts, "status": "failed", "message": message}
            reason = why if reason == "initial plan" else f"{reason}; {why}"
            update = {"goal": goal}
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
                "backend_notes": list(proposed.notes),
                "backend": self.backend.name,
                "planning_time_s": time.perf_counter() - t0,
                "sim_time": obs.sim_time,
            },
        )
        return update | {
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

    def _search(self, goal: Goal, facts: Facts, state: PlannerState) -> PlannerState | None:
        """A thing not found where perception placed it may be in closed storage: open the next
        one (at the robot's station first, else walking to it) so perception can look inside,
        then plan again with the thing trusted anew."""
        missing = sorted(goal.objects() & state.get("not_found", frozenset()))
        searched = state.get("searched", frozenset())
        station_of = {f[1]: f[2] for f in facts if f[0] == "station-of"}
        here = next((f[1] for f in facts if f[0] == "robot-at"), None)
        places = sorted(
            (station_of[f[1]] != here, f[1])
            for f in facts
            if f[0] == "closed"
            and ("openable", f[1]) in facts
            and f[1] in station_of
            and (station_of[f[1]] == here or ("can-walk",) in facts)
            and f[1] not in searched
        )
        if not missing or not places:
            return None
        walk, where = places[0]
        budgets = self.domain.config.time_budgets_s
        steps = [Subgoal("open", {"target": where}, (("open", where),), budgets.get("open", 30.0), 0)]
        if walk:
            to = station_of[where]
            steps.insert(0, Subgoal("navigate", {"place": to}, (("robot-at", to),), budgets.get("navigate", 60.0), 0))
            steps = [Subgoal(sg.skill, sg.args, sg.success, sg.time_budget_s, i) for i, sg in enumerate(steps)]
        try:
            predicted = self.domain.validate(steps, facts)
        except PlannerError:
            return None
        version = state.get("version", 0) + 1
        reason = f"{state.get('failure') or 'initial plan'}; {', '.join(missing)} not found where believed: searching {where}"
        record = PlanRecord(version, reason, steps, {}, ())
        self.emit(
            "plan" if version == 1 else "replan",
            {
                "plan_version": version,
                "reason": reason,
                "trigger": "search",
                "failed_subgoal": state.get("failed_subgoal"),
                "failure_reason": state.get("failure_reason"),
                "subgoals": [sg.to_dict() for sg in steps],
                "binding": {},
                "goal_facts": [],
                "actions": [],
                "backend_notes": [],
                "backend": "search",
                "planning_time_s": 0.0,
                "sim_time": None,
            },
        )
        return {
            "plan": steps,
            "predicted": predicted,
            "step": 0,
            "failure": "",
            "failed_subgoal": None,
            "failure_reason": None,
            "plans": [record],
            "searched": searched | {where},
            # look again: what perception reports after the search is the new belief
            "ruled_out": state.get("ruled_out", frozenset()) - set(missing),
            "not_found": state.get("not_found", frozenset()) - set(missing),
        }

    def approve_plan(self, state: PlannerState) -> PlannerState:
        """Pause with the plan until the operator approves, edits or rejects it."""
        if not self.approve:
            return {}
        goal = state["goal"]
        assert goal is not None
        version = state["version"]
        record = state["plans"][-1] if state.get("plans") else None
        answer = interrupt(
            {
                "kind": "plan",
                "plan_version": version,
                "goal": goal.describe(),
                "reason": record.reason if record else "",
                "subgoals": [sg.to_dict() for sg in state["plan"]],
            }
        )
        if not isinstance(answer, dict):
            answer = {"action": "reject", "reason": f"unreadable answer {answer!r}"}
        action = str(answer.get("action", "reject"))
        self.emit("operator", {"kind": "plan", "plan_version": version, "action": action})
        if action == "approve":
            return {}
        if action == "edit":
            try:
                steps = [
                    Subgoal(
                        skill=str(s["skill"]), args={str(k): str(v) for k, v in s.get("args", {}).items()}
                    )
                    for s in answer.get("subgoals", [])
                ]
                binding = {str(k): str(v) for k, v in answer.get("binding", {}).items()}
                checked = validate_plan(ProposedPlan(steps, binding), goal, state["facts"], self.domain)
            except (PlannerError, AttributeError, KeyError, TypeError) as e:
                msg = e if isinstance(e, PlanValidationError) else f"malformed edit ({type(e).__name__}: {e})"
                return {
                    "status": "failed",
                    "message": f"the operator's edit of plan v{version} is invalid: {msg}",
                }
            subgoals = [
                Subgoal(
                    sg.skill,
                    sg.args,
                    self._success(checked.predicted[i], checked.predicted[i + 1]),
                    self.domain.config.time_budgets_s.get(sg.skill, 30.0),
                    i,
                )
                for i, sg in enumerate(checked.subgoals)
            ]
            return {"plan": subgoals, "predicted": checked.predicted, "step": 0}
        reason = str(answer.get("reason", "")) or "no reason given"
        return {"status": "failed", "message": f"the operator rejected plan v{version}: {reason}"}

    def _success(self, before: Facts, after: Facts) -> tuple[Fact, ...]:
        cfg = self.domain.config
        return tuple(
            sorted({f[:2] if f[0] == "holding" else f for f in after - before if f[0] in cfg.observable})
        )

    def after_approve(self, state: PlannerState) -> str:
        if state.get("status") == "failed":
            return "fail"
        return "dispatch" if state["plan"] else "done"

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
            not_found = state.get("not_found", frozenset())
            if result.reason in RULES_OUT:
                ruled_out = ruled_out | {self._blame(sg, result)}
            if result.reason == FailureReason.NOT_FOUND:
                not_found = not_found | {self._blame(sg, result)}
            update: PlannerState = {
                "not_found": not_found,
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
        if self.approve and state["plan"]:
            return "approve"
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
        if sg.skill == "navigate":
            return sg.args.get("place", "")
        if sg.skill == "pick" or "target" not in sg.args:
            return sg.args.get("obj", "")
        return sg.args["target"]


def load_substitutes() -> dict[str, str]:
    """Catalogue categories whose members stand in for each other (planner/data/grounding.yaml)."""
    import yaml

    from planner.grounding import DATA_PATH

    raw = yaml.safe_load(DATA_PATH.read_text())
    return {str(k): str(v) for k, v in (raw.get("substitutes") or {}).items()}


def substitute_goal(
    goal: Goal, facts: Facts, ruled_out: frozenset[str], substitutable: dict[str, str]
) -> tuple[Goal, str] | None:
    """The goal with a missing or unusable named thing replaced by another of its kind, and why.

    "make me a coffee in the red mug" with the red mug gone becomes "... in another mug": the
    alternative is recorded as the plan's reason, and with --approve the operator sees it first.
    """
    present = {f[1] for f in facts if f[0] in ("graspable", "mug") and len(f) == 2}
    for obj in sorted(goal.objects()):
        cats = {f[2] for f in facts if f[0] == "is-a" and f[1] == obj}
        gone = obj not in present or obj in ruled_out or ("accessible", obj) not in facts
        if not gone:
            continue
        if not cats:  # not observed at all: its categories come from the catalogue
            from planner.world_model import scene_catalogue

            info = scene_catalogue("kitchen").get(obj)
            cats = set(info.categories) if info else set()
        kind = next((substitutable[c] for c in sorted(cats) if c in substitutable), None)
        if kind is None:
            continue
        var = "?alt"
        facts_ = tuple(tuple(var if t == obj else t for t in f) for f in goal.facts)
        variables = dict(goal.variables) | {var: f"{kind}&!{obj}"}
        why = f"{obj} is not available ({'ruled out' if obj in ruled_out else 'not observed'}); using another {kind}"
        return Goal(goal.intent, facts_, variables, goal.command, (*goal.notes, why)), why
    return None


def build_graph(nodes: PlannerNodes, checkpointer: Any = None) -> Any:
    """The compiled graph; its shape is the planner's control flow."""
    g = StateGraph(PlannerState)
    g.add_node("ground", nodes.ground)
    g.add_node("plan", nodes.plan)
    g.add_node("approve", nodes.approve_plan)
    g.add_node("dispatch", nodes.dispatch)
    g.add_node("observe", nodes.observe)
    g.add_node("goal_not_observed", nodes.goal_not_observed)
    g.add_node("replan", nodes.replan)
    g.add_node("done", nodes.done)
    g.add_node("fail", nodes.fail)
    g.add_edge(START, "ground")
    g.add_conditional_edges("ground", nodes.after_ground, ["plan", "fail"])
    g.add_conditional_edges("plan", nodes.after_plan, ["approve", "dispatch", "done", "fail"])
    g.add_conditional_edges("approve", nodes.after_approve, ["dispatch", "done", "fail"])
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
    return g.compile(checkpointer=checkpointer)


def run_planner(
    command: str,
    runner: SkillRunner,
    on_event: EventSink | None = None,
    backend: PlannerBackend | None = None,
    max_replans: int = MAX_REPLANS,
    operator: Operator | None = None,
    checkpointer: Any = None,
    thread_id: str | None = None,
) -> PlannerOutcome:
    """Ground `command`, plan, execute through `runner`, re-plan on failure; never raises a `PlannerError`.

    With `operator`, every plan and re-plan waits for its answer (see `Operator`); with a
    `checkpointer` (e.g. `sqlite_checkpointer(path)`) the run can be resumed by `thread_id`.
    An operator that raises leaves the run paused at its checkpoint.
    """
    from planner import supervision

    operator = operator or supervision.installed_operator()  # `humanoid run --approve`
    checkpointer = checkpointer or supervision.installed_checkpointer()
    nodes = PlannerNodes(runner, backend, on_event, max_replans, approve=operator is not None)
    if operator is not None and checkpointer is None:
        from langgraph.checkpoint.memory import InMemorySaver

        checkpointer = InMemorySaver(serde=planner_serde())  # interrupts need somewhere to wait
    graph = build_graph(nodes, checkpointer)
    # one thread per command: a checkpoint file may hold many runs, each resumable by its id
    thread_id = thread_id or f"run-{uuid.uuid4().hex[:12]}"
    if checkpointer is not None:
        nodes.emit("checkpoint", {"thread_id": thread_id})
    config = {"recursion_limit": 10_000, "configurable": {"thread_id": thread_id}}
    return _drive(graph, {"command": command, "plans": [], "results": []}, config, operator)


def resume_planner(
    thread_id: str,
    runner: SkillRunner,
    checkpointer: Any,
    operator: Operator | None = None,
    on_event: EventSink | None = None,
    backend: PlannerBackend | None = None,
    max_replans: int = MAX_REPLANS,
) -> PlannerOutcome:
    """Go on with a checkpointed run from where it stopped (a pending question is asked again)."""
    nodes = PlannerNodes(runner, backend, on_event, max_replans, approve=operator is not None)
    graph = build_graph(nodes, checkpointer)
    config = {"recursion_limit": 10_000, "configurable": {"thread_id": thread_id}}
    snapshot = graph.get_state(config)
    if not snapshot.values:
        raise ValueError(f"no checkpointed run '{thread_id}' to resume")
    pending = [i.value for t in snapshot.tasks for i in t.interrupts]
    if pending and operator is not None:
        return _drive(graph, Command(resume=operator(pending[0])), config, operator)
    return _drive(graph, None, config, operator)


def _drive(graph: Any, first: Any, config: dict[str, Any], operator: Operator | None) -> PlannerOutcome:
    final: PlannerState = graph.invoke(first, config)
    while operator is not None and final.get("__interrupt__"):
        question = final["__interrupt__"][0].value
        final = graph.invoke(Command(resume=operator(question)), config)
    return PlannerOutcome(
        success=final.get("status") == "done",
        goal=final.get("goal"),
        plans=list(final.get("plans", [])),
        results=list(final.get("results", [])),
        message=final.get("message", "") or ("paused for the operator" if final.get("__interrupt__") else ""),
        replans=final.get("replans", 0),
    )


class PlannerSerde:
    """Checkpoint serializer for the planner's state, exact for tuples and frozensets.

    LangGraph's msgpack serializer turns tuples into lists, and facts (tuples in frozensets)
    do not survive that. Pickle keeps them; unpickling is limited to the modules the planner's
    state is made of, so a tampered checkpoint file cannot name arbitrary code.
    """

    ALLOWED = (
        "builtins",
        "collections",
        "datetime",
        "uuid",
        "enum",
        "copyreg",
        "planner",
        "humanoid",
        "bridge",
        "langgraph",
        "langchain_core",
        "numpy",
    )

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        import pickle

        return "pickle", pickle.dumps(obj, protocol=5)

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        import io
        import pickle

        kind, blob = data
        if kind != "pickle":
            raise ValueError(f"checkpoint written by another serializer ({kind}); start the run again")
        allowed = self.ALLOWED

        class Restricted(pickle.Unpickler):
            def find_class(self, module: str, name: str) -> Any:
                if module.split(".")[0] not in allowed:
                    raise pickle.UnpicklingError(
                        f"checkpoint names {module}.{name}, which a planner state never holds"
                    )
                return super().find_class(module, name)

        return Restricted(io.BytesIO(blob)).load()


def planner_serde() -> Any:
    return PlannerSerde()


def sqlite_checkpointer(path: str) -> Any:
    """A SQLite checkpointer (langgraph-checkpoint-sqlite, the `llm` extra) writing to `path`."""
    import sqlite3

    try:
        from langgraph.checkpoint.sqlite import SqliteSaver
    except ImportError as e:
        raise PlannerError("checkpointing needs langgraph-checkpoint-sqlite (pip install -e '.[llm]')") from e
    return SqliteSaver(sqlite3.connect(path, check_same_thread=False), serde=planner_serde())
