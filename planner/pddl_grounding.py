"""Grounding a PDDL problem into a pyperplan `Task`: the same operators pyperplan builds, faster.

pyperplan's `grounding.ground` enumerates the full product of every action parameter's objects
and only then drops the assignments whose static preconditions are false. With walking, the
kitchen's actions take a place *and* the station it is worked from (`station-of ?p ?s`), so
most of that product (places x stations x objects x hands) is thrown away again: it was about
three quarters of the planning time per command. Here the parameters are assigned one at a
time and every static precondition is checked as soon as its arguments are bound, so a wrong
station is rejected once, not once per object and hand.

Why not prune the problem instead (only the stations and places the goal touches)? That
changes which plans exist, so plans could change; this changes only how fast the same task is
built, and the search (GBFS + hFF) is left as it was. The result is meant to be the same task, operator for operator (names, preconditions, add and
delete effects, the facts, the initial state without statics, relevance pruning):
`tests/planner/test_planner_pddl_grounding.py` compares it with pyperplan's own grounding.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pyperplan.grounding import _relevance_analysis
from pyperplan.pddl.pddl import Action, Domain, Predicate
from pyperplan.task import Operator, Task

# An atom's argument: the index of the action parameter that fills it, or a constant name.
Arg = int | str


def atom_str(name: str, args: Iterable[str]) -> str:
    """pyperplan's notation for a ground atom: "(at mug_red table)", "(hands-empty)"."""
    return "(" + " ".join((name, *args)) + ")"


@dataclass(frozen=True)
class _Template:
    """An atom of an action schema, ready to ground: its predicate and where each argument comes from."""

    name: str
    args: tuple[Arg, ...]

    def ground(self, values: Sequence[str]) -> str:
        return atom_str(self.name, (values[a] if isinstance(a, int) else a for a in self.args))


@dataclass(frozen=True)
class _Schema:
    name: str
    param_types: tuple[tuple[str, ...], ...]
    order: tuple[int, ...]  # the order parameters are bound in: the most constrained by statics first
    # Static preconditions (no action changes them: the initial state decides). Those on one
    # parameter filter its objects once (unary[i]); the others are checked as soon as the last
    # of their parameters is bound (checks[k], once order[k] is).
    unary: tuple[tuple[_Template, ...], ...]
    checks: tuple[tuple[_Template, ...], ...]
    fluents: tuple[_Template, ...]  # preconditions that actions change
    adds: tuple[_Template, ...]
    dels: tuple[_Template, ...]


class Grounder:
    """One PDDL domain's action schemas, compiled once; `ground` turns a problem into a `Task`."""

    def __init__(self, domain: Domain) -> None:
        effects = {p.name for a in domain.actions.values() for p in a.effect.addlist | a.effect.dellist}
        # pyperplan's definition: a predicate no action adds or deletes is static
        self.statics = frozenset(n for n in domain.predicates if n not in effects)
        self.constants: dict[str, str] = {c: t.name for c, t in domain.constants.items()}
        # each type with every type it is a kind of (a mug is a graspable is an object)
        self.supertypes: dict[str, tuple[str, ...]] = {}
        for name, t in domain.types.items():
            chain = []
            while t is not None:
                chain.append(t.name)
                t = t.parent
            self.supertypes[name] = tuple(chain)
        self.schemas = {a.name: self._compile(a) for a in domain.actions.values()}

    def _compile(self, action: Action) -> _Schema:
        index = {name: i for i, (name, _types) in enumerate(action.signature)}

        def template(p: Predicate) -> _Template:
            return _Template(p.name, tuple(index.get(n, n) for n, _t in p.signature))

        pre = [template(p) for p in action.precondition]
        statics = [t for t in pre if t.name in self.statics]
        n = len(action.signature)
        mentions = [sum(i in t.args for t in statics) for i in range(n)]
        order = sorted(range(n), key=lambda i: -mentions[i])
        unary: list[list[_Template]] = [[] for _ in range(n)]
        checks: list[list[_Template]] = [[] for _ in range(max(1, n))]
        for t in statics:
            params = {a for a in t.args if isinstance(a, int)}
            if len(params) == 1:
                unary[params.pop()].append(t)
            else:
                checks[max((order.index(a) for a in params), default=0)].append(t)
        return _Schema(
            name=action.name,
            param_types=tuple(tuple(t.name for t in types) for _n, types in action.signature),
            order=tuple(order),
            unary=tuple(tuple(u) for u in unary),
            checks=tuple(tuple(c) for c in checks),
            fluents=tuple(t for t in pre if t.name not in self.statics),
            adds=tuple(template(p) for p in action.effect.addlist),
            dels=tuple(template(p) for p in action.effect.dellist),
        )

    def ground(
        self,
        name: str,
        objects: Mapping[str, str],
        init: Iterable[str],
        goal: Iterable[str],
        remove_irrelevant_operators: bool = True,
        only: Mapping[str, Iterable[Mapping[int, str]]] | None = None,
    ) -> Task:
        """The task for `objects` (name -> type), `init` and `goal` (ground atoms as `atom_str`).

        `only` restricts grounding to some actions, each with some parameters fixed (action ->
        [{parameter index: object}]): validating a plan needs only the operators its steps name.
        Operators come sorted by name, so the search (and the plan) is the same on every run."""
        by_type: dict[str, set[str]] = {}
        for obj, typ in {**objects, **self.constants}.items():
            for t in self.supertypes[typ]:
                by_type.setdefault(t, set()).add(obj)
        init = frozenset(init)
        goals = frozenset(goal)
        wanted = {a: [{}] for a in self.schemas} if only is None else only
        operators: dict[str, Operator] = {}
        for action, fixings in wanted.items():
            for fixed in fixings:
                for op in self._operators(self.schemas[action], by_type, init, fixed):
                    operators.setdefault(op.name, op)
        ops = list(operators.values())
        facts = set(goals)
        for op in ops:
            facts |= op.preconditions | op.add_effects | op.del_effects
        if remove_irrelevant_operators:
            ops = _relevance_analysis(ops, goals)
        ops.sort(key=lambda op: op.name)
        return Task(name, facts, init & facts, goals, ops)

    @staticmethod
    def _operators(
        s: _Schema, by_type: Mapping[str, set[str]], init: frozenset[str], fixed: Mapping[int, str]
    ) -> list[Operator]:
        """Every operator of `s` whose static preconditions hold in `init`, as pyperplan grounds them."""
        n = len(s.param_types)
        values: list[str] = [""] * n
        candidates = []
        for i, types in enumerate(s.param_types):
            typed = set().union(*(by_type.get(t, ()) for t in types))
            # a fixed object of the wrong type (or not in the problem) grounds nothing, as in pyperplan
            objs = sorted(typed) if i not in fixed else [fixed[i]] if fixed[i] in typed else []
            ok = []
            for obj in objs:
                values[i] = obj
                if all(t.ground(values) in init for t in s.unary[i]):
                    ok.append(obj)
            candidates.append(ok)
        out: list[Operator] = []

        def extend(k: int) -> None:
            if k == n:
                # as pyperplan: what an action adds and deletes stays added; a precondition is not re-added
                pre = {t.ground(values) for t in s.fluents}
                add = {t.ground(values) for t in s.adds}
                dele = {t.ground(values) for t in s.dels} - add
                out.append(Operator(atom_str(s.name, values), pre, add - pre, dele))
                return
            i = s.order[k]
            for obj in candidates[i]:
                values[i] = obj
                if all(t.ground(values) in init for t in s.checks[k]):
                    extend(k + 1)

        if n or all(t.ground(values) in init for t in s.checks[0]):
            extend(0)
        return out
