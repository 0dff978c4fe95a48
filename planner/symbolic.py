"""Symbolic planning: the kitchen's skills as PDDL actions, solved with pyperplan.

The problem is generated from the world model's facts, grounded by `planner/pddl_grounding.py`
(the operators pyperplan's own grounding builds, without its cartesian product) and searched
with pyperplan (greedy best-first with the FF heuristic by default). An appliance that is
missing or off leaves its actions ungroundable, so the search finds another route (the
kettle and instant coffee instead of the machine) with no special case here. The same
grounded operators check any proposed plan step by step (`validate`) before anything moves.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from pyperplan import search
from pyperplan.heuristics.relaxation import hFFHeuristic
from pyperplan.pddl.parser import Parser
from pyperplan.pddl.pddl import Domain
from pyperplan.task import Operator, Task

from humanoid.contracts import Subgoal
from planner.domain_config import DomainConfig, load_domain_config
from planner.errors import PlanningError, PlanValidationError
from planner.goal import Fact, Facts, Goal, category_text, format_fact
from planner.pddl_grounding import Grounder

# Object types of the domain, in the order the problem declares them; each comes from a unary
# type fact of the world model, e.g. ("mug", "mug_red").
TYPES = ("place", "hand", "graspable", "mug")
# Depth-first matching of skill calls to grounded actions gives up after this many tries.
MAX_VALIDATION_NODES = 20_000

Searcher = Callable[[Task, object], list[Operator] | None]


@dataclass
class SymbolicPlan:
    """A solved goal: the subgoals and the chosen variable binding (e.g. which mug)."""

    subgoals: list[Subgoal]
    goal_facts: tuple[Fact, ...]
    binding: dict[str, str] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)  # the grounded PDDL actions, for the trace


def _fact_str(fact: Fact) -> str:
    return "(" + " ".join(fact) + ")"


def _parse_atom(atom: str) -> Fact:
    return tuple(atom.strip("()").split())


class SymbolicDomain:
    """A parsed PDDL domain with its skill binding; build once, plan many times."""

    def __init__(self, config: DomainConfig | None = None, searcher: Searcher | None = None) -> None:
        self.config = config or load_domain_config()
        parser = Parser(str(self.config.pddl_path))
        self.pddl: Domain = parser.parse_domain()
        self.predicates = frozenset(self.pddl.predicates)
        self.constants = frozenset(self.pddl.constants)
        self._grounder = Grounder(self.pddl)
        self._search: Searcher = searcher or (lambda task, h: search.greedy_best_first_search(task, h))
        unknown = set(self.config.actions) ^ set(self.pddl.actions)
        if unknown:
            raise ValueError(
                f"{self.config.pddl_path} and its binding disagree on actions: {sorted(unknown)}"
            )

    # ---- problem -------------------------------------------------------------------------
    def problem_pddl(
        self,
        goal_facts: Iterable[Fact],
        facts: Facts,
        relevant_only: bool = False,
        also_keep: Iterable[str] = (),
    ) -> str:
        """The PDDL problem text for reaching `goal_facts` from `facts` (handy for debugging).

        `relevant_only` drops the things no plan for this goal needs (for search; a proposed
        plan is validated against the whole world)."""
        objects, init, goal = self._problem(goal_facts, facts, relevant_only, also_keep)
        by_type = {t: [o for o, ot in objects.items() if ot == t] for t in TYPES}
        decl = " ".join(" ".join(names) + f" - {t}" for t, names in by_type.items() if names)
        return (
            f"(define (problem {self.config.name}-task) (:domain {self.pddl.name})\n"
            f" (:objects {decl})\n"
            f" (:init {' '.join(map(_fact_str, init))})\n"
            f" (:goal (and {' '.join(map(_fact_str, goal))})))\n"
        )

    def _problem(
        self, goal_facts: Iterable[Fact], facts: Facts, relevant_only: bool, also_keep: Iterable[str]
    ) -> tuple[dict[str, str], list[Fact], list[Fact]]:
        """The problem's objects (name -> type), initial facts and goal facts."""
        goal = list(goal_facts)
        keep = set(also_keep)
        if relevant_only or keep:
            facts = self._relevant(facts, goal, keep)
        facts = facts | self._deliveries(facts, goal)
        objects = {o: t for t in TYPES for o in sorted(f[1] for f in facts if f[0] == t and len(f) == 2)}
        known = self.constants | set(objects)
        init = sorted(f for f in facts if f[0] in self.predicates and all(a in known for a in f[1:]))
        if self.config.tidy_hands:
            goal += [("hand-free", h) for h, t in objects.items() if t == "hand"]
        missing = sorted({a for f in goal for a in f[1:] if a not in known})
        if missing:
            raise PlanningError(f"the goal names {missing}, which the observed world does not contain")
        return objects, init, goal

    def _relevant(self, facts: Facts, goal: Sequence[Fact], also_keep: set[str] | None = None) -> Facts:
        """Drop graspable things the goal does not name, that play no role and are not held.

        In this domain such a thing can only be moved around, which never helps another goal,
        but every one of them multiplies the grounded actions (with every station in walking
        range, "make me a coffee" would ground 20x more operators)."""
        named = {a for f in goal for a in f[1:]}
        role_preds = set(self.config.roles)
        keep = named | (also_keep or set()) | {f[1] for f in facts if f[0] in role_preds or f[0] == "holding"}
        if any(f[0] == "contains" for f in goal):
            keep |= {f[1] for f in facts if f[0] == "mug"}  # a coffee needs a mug even when unnamed
        idle = {f[1] for f in facts if f[0] in ("graspable", "mug") and len(f) == 2} - keep
        return frozenset(f for f in facts if not idle.intersection(f[1:]))

    @staticmethod
    def _deliveries(facts: Facts, goal: Sequence[Fact]) -> Facts:
        """Static facts that allow giving the user exactly what the goal asks for, nothing else."""
        out: set[Fact] = set()
        for f in goal:
            if f[0] == "at" and ("serving", f[2]) in facts:
                out.add(("deliver", f[1]))
            elif f[0] == "handed":
                out.add(("deliver-by-hand", f[1]))
        return frozenset(out)

    def ground(
        self,
        goal_facts: Iterable[Fact],
        facts: Facts,
        prune: bool = True,
        also_keep: Iterable[str] = (),
        steps: Sequence[Subgoal] | None = None,
    ) -> Task:
        """The grounded task (pyperplan's `Task`, operators sorted by name) for `goal_facts` from `facts`.

        `prune` drops the things and operators no plan for this goal needs (for search); `also_keep`
        keeps those objects whatever the goal, and `steps` grounds only the operators that could
        carry out these skill calls (both for validating a proposed plan)."""
        objects, init, goal = self._problem(goal_facts, facts, prune, also_keep)
        # pyperplan's parser reads every name in lower case; so does the task built here
        return self._grounder.ground(
            f"{self.config.name}-task",
            {o.lower(): t for o, t in objects.items()},
            (_fact_str(f).lower() for f in init),
            (_fact_str(f).lower() for f in goal),
            remove_irrelevant_operators=prune,
            only=None if steps is None else self._step_actions(steps),
        )

    def _step_actions(self, steps: Sequence[Subgoal]) -> dict[str, list[dict[int, str]]]:
        """For each action, the parameters the skill calls fix (a step's args name its parameters)."""
        only: dict[str, list[dict[int, str]]] = {}
        for sg in steps:
            for b in self.config.actions_for_skill(sg.skill):
                # other arguments (or ids that are not strings) match no operator anyway
                if {a for a, _ in b.args} == set(sg.args) and all(
                    isinstance(v, str) for v in sg.args.values()
                ):
                    fixed = {pos: sg.args[a] for a, pos in b.args}
                    if fixed not in only.setdefault(b.action, []):
                        only[b.action].append(fixed)
        return only

    # ---- solving -------------------------------------------------------------------------
    def solve(self, goal: Goal, facts: Facts) -> SymbolicPlan:
        """The shortest plan over the goal's variable bindings; `PlanningError` says why there is none."""
        bindings = list(goal.bindings(facts)) if goal.variables else [{}]
        if not bindings:
            cats = "; ".join(sorted({category_text(c) for c in goal.variables.values()}))
            raise PlanningError(f"no plan for '{goal.describe()}': the observed world has no {cats}")
        best: SymbolicPlan | None = None
        for binding in _distinct(bindings, facts):
            goal_facts = goal.bind(binding)
            if all(f in facts for f in goal_facts):
                return SymbolicPlan([], goal_facts, binding, [])
            task = self.ground(goal_facts, facts)
            ops = self._search(task, hFFHeuristic(task))
            if ops is not None and (best is None or len(ops) < len(best.actions)):
                subgoals = self.to_subgoals([op.name for op in ops])
                best = SymbolicPlan(subgoals, goal_facts, binding, [op.name for op in ops])
        if best is None:
            raise PlanningError(self.explain_unsolvable(goal, facts))
        return best

    def to_subgoals(self, action_names: Sequence[str]) -> list[Subgoal]:
        subgoals = []
        for i, name in enumerate(action_names):
            action, *params = _parse_atom(name)
            binding = self.config.actions[action]
            op_effects = self._effects(action, params)
            success = tuple(
                sorted({self._observable(f) for f in op_effects if f[0] in self.config.observable})
            )
            subgoals.append(
                Subgoal(
                    skill=binding.skill,
                    args={arg: params[pos] for arg, pos in binding.args},
                    success=success,
                    time_budget_s=self.config.time_budgets_s.get(binding.skill, 30.0),
                    index=i,
                )
            )
        return subgoals

    def _effects(self, action: str, params: Sequence[str]) -> list[Fact]:
        a = self.pddl.actions[action]
        sub = {var: val for (var, _types), val in zip(a.signature, params, strict=True)}
        return [(p.name, *(sub.get(n, n) for n, _t in p.signature)) for p in a.effect.addlist]

    @staticmethod
    def _observable(fact: Fact) -> Fact:
        return fact[:2] if fact[0] == "holding" else fact  # any hand will do

    # ---- validation ----------------------------------------------------------------------
    def validate(
        self, plan: Sequence[Subgoal], facts: Facts, goal_facts: Iterable[Fact] | None = None
    ) -> list[Facts]:
        """Check `plan` against the domain from `facts`: each step's preconditions must hold when it runs
        and, when given, `goal_facts` at the end. Returns the predicted state before each step and after
        the last; raises `PlanValidationError` naming the first step that cannot run and why."""
        goal_list = tuple(goal_facts or ())
        # things the plan never touches cannot change whether it runs; leaving them out keeps
        # grounding small (a plan naming an unknown id still fails: it is not in the problem)
        named = {v for sg in plan for v in sg.args.values()} | {"__validate__"}
        # an action's hidden parameters (the mug under the spout) stand at a place the plan names
        named |= {f[1] for f in facts if f[0] == "at" and f[2] in named}
        # Only the operators that could carry out one of the plan's steps are grounded (a step's
        # skill and args fix the action and most of its parameters): the search below matches
        # steps to nothing else, so the result is the same as with the whole grounded world, at a
        # few percent of the cost. What no grounded operator mentions stays as it is (statics).
        task = self.ground(goal_list, facts, prune=False, also_keep=named, steps=plan)
        by_skill: dict[str, list[tuple[Operator, dict[str, str]]]] = {}
        for op in task.operators:
            action, *params = _parse_atom(op.name)
            b = self.config.actions[action]
            by_skill.setdefault(b.skill, []).append((op, {arg: params[pos] for arg, pos in b.args}))
        # what the grounded task does not track (static, typing, pruned far objects) stays as it is
        statics = frozenset(facts) - {_parse_atom(x) for x in task.facts}
        goal_atoms = {_fact_str(f) for f in goal_list}
        nodes = itertools.count()
        deepest: list[tuple[int, frozenset[str]]] = [(-1, frozenset())]
        ends: list[frozenset[str]] = []  # final states of complete runs that miss the goal

        def dfs(i: int, state: frozenset[str], path: list[frozenset[str]]) -> list[frozenset[str]] | None:
            if next(nodes) > MAX_VALIDATION_NODES:
                return None
            if i == len(plan):
                if goal_atoms <= state:
                    return path
                ends.append(state)
                return None
            if i > deepest[0][0]:
                deepest[0] = (i, state)
            sg = plan[i]
            for op, args in by_skill.get(sg.skill, ()):
                if args == sg.args and op.applicable(state):
                    found = dfs(i + 1, op.apply(state), [*path, op.apply(state)])
                    if found is not None:
                        return found
            return None

        for sg in plan:
            known = self.config.actions_for_skill(sg.skill)
            if not known:
                raise PlanValidationError(
                    f"step {sg.index} '{sg.describe()}': unknown skill '{sg.skill}'", sg.index
                )
            expected = {a for a, _ in known[0].args}
            if set(sg.args) != expected:
                raise PlanValidationError(
                    f"step {sg.index} '{sg.describe()}': {sg.skill} takes arguments {sorted(expected)}",
                    sg.index,
                )
        start = frozenset(task.initial_state)
        states = dfs(0, start, [start])
        if states is None:
            if ends:
                unmet = sorted(goal_atoms - ends[0])
                raise PlanValidationError(
                    f"the plan runs but does not reach the goal; still missing: {unmet}", len(plan)
                )
            step, state = deepest[0]
            sg = plan[step]
            why = self._unmet(by_skill.get(sg.skill, []), sg.args, state)
            raise PlanValidationError(f"step {step} '{sg.describe()}' cannot run: {why}", step)
        return [frozenset(_parse_atom(a) for a in s) | statics for s in states]

    @staticmethod
    def _unmet(
        candidates: list[tuple[Operator, dict[str, str]]], args: dict[str, str], state: frozenset[str]
    ) -> str:
        matching = [op for op, a in candidates if a == args]
        if not matching:
            return "no action of the domain does this with these arguments here (wrong type, out of reach, or not in the scene)"
        best = min(matching, key=lambda op: len(op.preconditions - state))
        return "needs " + ", ".join(sorted(best.preconditions - state))

    def apply(self, subgoal: Subgoal, facts: Facts) -> Facts:
        """The facts after one subgoal, as the domain predicts (raises `PlanValidationError` if it cannot run).

        A simulation of the world, not a policy check: delivering anything to the user is allowed.
        """
        obj = subgoal.args.get("obj")
        allow: Facts = frozenset({("deliver", obj), ("deliver-by-hand", obj)} if obj else set())
        return self.validate([subgoal], facts | allow)[-1] - allow

    # ---- explanations --------------------------------------------------------------------
    def explain_unsolvable(self, goal: Goal, facts: Facts) -> str:
        reasons = []
        station_of = {f[1]: f[2] for f in facts if f[0] == "station-of"}
        here = next((f[1] for f in facts if f[0] == "robot-at"), "nowhere")
        walks = ("can-walk",) in facts
        no_walking = "walking is not supported yet: no navigate skill, no walking policy, or walking not promoted (WALKING_READY)"

        def out_of_reach(place: str) -> str | None:
            """Why the robot cannot act at `place`, or None when it can (here or by walking)."""
            if place not in station_of:
                return f"{place} has no stand pose in the scene, so the robot cannot work there"
            if station_of[place] != here and not walks:
                return f"{place} is out of reach from where the robot stands ({no_walking})"
            return None

        present = {f[1] for f in facts if f[0] in TYPES}
        for obj in sorted(goal.objects() - self.constants - {"coffee", "water"}):
            if obj not in present:
                reasons.append(f"{obj} is not in the scene")
                continue
            at = next((f[2] for f in facts if f[0] == "at" and f[1] == obj), None)
            if ("place", obj) in facts and out_of_reach(obj):
                reasons.append(str(out_of_reach(obj)))
            elif at is not None and out_of_reach(at):
                reasons.append(f"{obj} is at {at}: {out_of_reach(at)}")
            elif ("accessible", obj) not in facts and ("place", obj) not in facts:
                reasons.append(f"{obj} could not be reached or grasped earlier")
        for var, category in goal.variables.items():
            if var in {a for f in goal.facts for a in f} and not any(
                f[0] == "contains" and f[1] == var for f in goal.facts
            ):
                candidates = [(f[1], f[2]) for f in facts if f[0] == "at" and goal.admits(var, f[1], facts)]
                far = sorted(f"{o} ({p})" for o, p in candidates if out_of_reach(p))
                if far and len(far) == len(candidates):
                    reasons.append(
                        f"every {category_text(category)} is out of reach from where the robot stands: "
                        f"{', '.join(far)} ({no_walking if not walks else 'no station to work them from'})"
                    )
        for role in ("coffee-maker", "heater"):
            if any(f[0] == "contains" or f[-1] == "coffee" for f in goal.facts):
                have = sorted(f[1] for f in facts if f[0] == role)
                off = [x for x in have if ("powered", x) not in facts]
                if not have:
                    reasons.append(f"there is no {role.replace('-', ' ')} in the scene")
                elif off:
                    reasons.append(f"{', '.join(off)} is not powered or not available")
                for x in have:
                    at = next((f[2] for f in facts if f[0] == "at" and f[1] == x), x)
                    if at in station_of and out_of_reach(at):
                        reasons.append(f"{x} is at {at}: {out_of_reach(at)}")
        if not reasons:
            reasons.append("no sequence of the robot's skills reaches it from the observed state")
        act_here = sorted(p for p, st in station_of.items() if st == here)
        where = f"The robot stands at {here} and can act at: {', '.join(act_here) or 'nothing'}"
        if walks:
            where += f"; it can walk to: {', '.join(sorted({f[1] for f in facts if f[0] == 'station'})) or 'nowhere'}"
        return f"no plan for '{goal.describe()}': " + "; ".join(reasons) + f". {where}."


def _distinct(bindings: Sequence[dict[str, str]], facts: Facts) -> list[dict[str, str]]:
    """One binding per class of interchangeable ones: two sodas on the same counter give plans of
    the same length, so searching both is wasted time. Categories (`is-a`) do not change what
    the skills can do; every other fact about an object does. The first of each class is kept,
    so the choice stays the same on every run."""
    about: dict[str, frozenset[tuple[str, ...]]] = {}

    def signature(obj: str) -> frozenset[tuple[str, ...]]:
        if obj not in about:
            about[obj] = frozenset(
                tuple("_" if a == obj else a for a in f) for f in facts if f[0] != "is-a" and obj in f[1:]
            )
        return about[obj]

    seen: set[tuple[tuple[str, frozenset[tuple[str, ...]]], ...]] = set()
    out = []
    for b in bindings:
        key = tuple(sorted((v, signature(o)) for v, o in b.items()))
        if key not in seen:
            seen.add(key)
            out.append(b)
    return out


@lru_cache(maxsize=4)
def default_domain(name: str = "kitchen") -> SymbolicDomain:
    """The parsed domain, shared: parsing is the one slow step that never changes."""
    return SymbolicDomain(load_domain_config(name))


def goal_facts_text(facts: Iterable[Fact]) -> str:
    return ", ".join(format_fact(f) for f in facts)
