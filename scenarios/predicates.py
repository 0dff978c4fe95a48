"""Success predicates of a scenario, judged on a finished run's trace.

Two kinds, both named in scenario files as plain strings:
- world facts on the final observation (`/world/final`), in the planner's vocabulary
  (`contains(?mug, coffee)`, `at(mug_blue, user)`, `not at(mug_red, user)`); a `?variable`
  means "some object", bound jointly across one group;
- run events (`never:` group): `fallen`, `safety_stop`, `robot_moved`, `bridge_down`.

Each check reports what was expected and what was actually seen, so a failure in the table
or the JUnit file says what to look at.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

from humanoid.trace.reader import Trace
from planner.goal import Fact, Facts, format_fact, is_variable

_FACT = re.compile(r"^\s*(not\s+)?([a-z][a-z0-9_-]*)\s*\(([^()]*)\)\s*$")
MAX_BINDINGS = 500


@dataclass(frozen=True)
class WorldPredicate:
    fact: Fact
    negated: bool = False
    text: str = ""


@dataclass
class Check:
    """One judged predicate: its group, what was expected, what was seen, whether it passed."""

    group: str
    name: str
    expected: str
    actual: str
    ok: bool


def parse_world_predicate(text: str) -> WorldPredicate:
    m = _FACT.match(text)
    if not m:
        raise ValueError(
            f"'{text}' is not a predicate like 'at(mug_blue, user)' or 'not contains(?mug, coffee)'"
        )
    args = tuple(a.strip() for a in m.group(3).split(",") if a.strip())
    return WorldPredicate((m.group(2), *args), bool(m.group(1)), text.strip())


# --- run events -----------------------------------------------------------------------------
def _fallen(trace: Trace) -> str | None:
    falls = [m for m in trace.topic("/safety/event") if m.payload.get("kind") == "fall"]
    return f"fell at {falls[0].sim_time:.1f} s: {falls[0].payload.get('detail', '')}" if falls else None


def _skill_failures(trace: Trace, reason: str) -> list[dict]:
    out = []
    for m in trace.topic("/planner/subgoal"):
        r = m.payload.get("result") or {}
        if r.get("reason") == reason:
            out.append(r)
    return out


def _safety_stop(trace: Trace) -> str | None:
    stops = _skill_failures(trace, "safety_stop")
    return (
        f"{stops[0]['subgoal']['skill']} ended in a safety stop: {stops[0].get('message', '')}"
        if stops
        else None
    )


def _bridge_down(trace: Trace) -> str | None:
    down = _skill_failures(trace, "bridge_down")
    return f"the robot link went down: {down[0].get('message', '')}" if down else None


def _robot_moved(trace: Trace) -> str | None:
    moves = trace.topic("/motion/plan") + trace.topic("/control/telemetry")
    return f"{len(moves)} motion plans/telemetry samples" if moves else None


RUN_EVENTS: dict[str, Callable[[Trace], str | None]] = {
    "fallen": _fallen,
    "safety_stop": _safety_stop,
    "bridge_down": _bridge_down,
    "robot_moved": _robot_moved,
}


def validate_predicate(text: str, group: str) -> None:
    """Raise `ValueError` for a predicate that cannot be judged (used by the schema)."""
    if group == "never" and text in RUN_EVENTS:
        return
    if text == "collision_with_user":
        raise ValueError(
            "'collision_with_user' cannot be judged yet: the kitchen has no body for the user, only a serving spot"
        )
    if group == "never" and "(" not in text:
        raise ValueError(f"unknown event '{text}' in 'never'; known: {', '.join(RUN_EVENTS)} or a world fact")
    parse_world_predicate(text)


# --- judging ------------------------------------------------------------------------------
def _bindings(preds: list[WorldPredicate], facts: Facts):
    variables = sorted({t for p in preds for t in p.fact[1:] if is_variable(t)})
    objects = sorted({t for f in facts for t in f[1:]})
    for combo in itertools.islice(itertools.product(objects, repeat=len(variables)), MAX_BINDINGS):
        yield dict(zip(variables, combo, strict=True))


def _holds(p: WorldPredicate, facts: Facts, binding: dict[str, str]) -> bool:
    fact = tuple(binding.get(t, t) for t in p.fact)
    return (fact in facts) != p.negated


def _seen(p: WorldPredicate, facts: Facts) -> str:
    """What the world shows about the predicate's subject, for the 'actual' column."""
    subject = p.fact[1] if len(p.fact) > 1 else ""
    related = sorted(
        f for f in facts if f[0] == p.fact[0] and (is_variable(subject) or (len(f) > 1 and f[1] == subject))
    )
    if not related and not is_variable(subject):
        related = sorted(
            f
            for f in facts
            if len(f) > 1 and f[1] == subject and f[0] in ("at", "holding", "contains", "empty")
        )
    return ", ".join(format_fact(f) for f in related[:4]) or "nothing of the kind observed"


def judge_world(group: str, texts: list[str], facts: Facts | None) -> list[Check]:
    """World predicates of one group under the binding that satisfies the most of them."""
    preds = [parse_world_predicate(t) for t in texts]
    if not preds:
        return []
    if facts is None:
        return [
            Check(
                group,
                p.text,
                "holds" if group != "never" else "never",
                "no final world (the run ended early)",
                False,
            )
            for p in preds
        ]
    best: dict[str, str] = {}
    best_n = -1
    for b in _bindings(preds, facts):
        n = sum(_holds(p, facts, b) == (group != "never") for p in preds)
        if n > best_n:
            best, best_n = b, n
        if n == len(preds):
            break
    out = []
    for p in preds:
        holds = _holds(p, facts, best)
        bound = format_fact(tuple(best.get(t, t) for t in p.fact)) if best else p.text
        if group == "never":
            out.append(
                Check(
                    group, p.text, "never holds", f"holds: {bound}" if holds else "does not hold", not holds
                )
            )
        else:
            out.append(
                Check(group, p.text, "holds", "holds" if holds else f"false; seen: {_seen(p, facts)}", holds)
            )
    return out


def judge_never(texts: list[str], trace: Trace, facts: Facts | None) -> list[Check]:
    checks = []
    world = [t for t in texts if t not in RUN_EVENTS]
    for t in texts:
        if t in RUN_EVENTS:
            seen = RUN_EVENTS[t](trace)
            checks.append(Check("never", t, "does not happen", seen or "did not happen", seen is None))
    return checks + judge_world("never", world, facts)
