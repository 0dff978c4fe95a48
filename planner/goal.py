"""Facts and goals: the symbolic vocabulary shared by grounding, the world model and planning.

A fact is a tuple of strings, ("at", "mug_red", "user"). A goal is a conjunction of facts
that may name variables ("?mug") standing for any object of a catalogue category: "make me
a coffee" does not care which mug, so the planner picks the one with the shortest plan.

A variable's category is an expression over catalogue categories and object ids, so "a drink
without caffeine" needs no code: `drink&!caffeinated`. Terms joined by `&` must all hold, `|`
separates alternatives inside a term ("a coke or a pepsi": `coke|pepsi`), a leading `!` negates
a term. An atom holds for an object that is that id or has that category.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

Fact = tuple[str, ...]
Facts = frozenset[Fact]

# Bindings tried per goal, so a vague goal over a big catalogue cannot blow up planning time.
MAX_BINDINGS = 24


def is_variable(term: str) -> bool:
    return term.startswith("?")


def format_fact(fact: Fact) -> str:
    return f"{fact[0]}({', '.join(fact[1:])})"


@dataclass(frozen=True)
class Goal:
    """What the command asks for, as facts over scene ids (and typed variables).

    `variables` maps each variable to the catalogue category its value must have;
    `notes` records what grounding assumed or corrected (e.g. "read 'cofee' as 'coffee'").
    """

    intent: str
    facts: tuple[Fact, ...]
    variables: Mapping[str, str] = field(default_factory=dict)
    command: str = ""
    notes: tuple[str, ...] = ()

    def describe(self) -> str:
        text = " and ".join(format_fact(f) for f in self.facts)
        if self.variables:
            where = ", ".join(f"{v} any {category_text(c)}" for v, c in self.variables.items())
            text += f" ({where})"
        return text

    def objects(self) -> set[str]:
        """The concrete ids the goal names (not its variables)."""
        return {t for f in self.facts for t in f[1:] if not is_variable(t)}

    def bind(self, binding: Mapping[str, str]) -> tuple[Fact, ...]:
        return tuple(tuple(binding.get(t, t) for t in f) for f in self.facts)

    def bindings(self, facts: Facts) -> Iterator[dict[str, str]]:
        """Every assignment of the variables to objects of their category present in `facts`.

        Candidates come in the order of the world's ("is-a", obj, category) facts, sorted, so the
        choice between equally good objects is the same on every run.
        """
        names = list(self.variables)
        things = sorted({f[1] for f in _is_a(facts)})
        pools = [[o for o in things if self.admits(v, o, facts)] for v in names]
        for combo in itertools.islice(itertools.product(*pools), MAX_BINDINGS):
            if len(set(combo)) == len(combo):
                yield dict(zip(names, combo, strict=True))

    def admits(self, variable: str, obj: str, facts: Facts) -> bool:
        """True when `obj` may stand for `variable` in the world `facts` (its category expression holds)."""
        expr = self.variables.get(variable)
        return expr is not None and category_holds(expr, obj, facts)

    def holds(self, facts: Facts) -> bool:
        """True when some binding of the variables makes every goal fact true in `facts`."""
        if not self.variables:
            return all(f in facts for f in self.facts)
        return any(all(f in facts for f in self.bind(b)) for b in self.bindings(facts))

    def to_dict(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "facts": [list(f) for f in self.facts],
            "variables": dict(self.variables),
            "text": self.describe(),
            "command": self.command,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Goal:
        return cls(
            intent=str(d["intent"]),
            facts=tuple(tuple(str(x) for x in f) for f in d["facts"]),
            variables={str(k): str(v) for k, v in d.get("variables", {}).items()},
            command=str(d.get("command", "")),
            notes=tuple(str(n) for n in d.get("notes", ())),
        )


def category_holds(expr: str, obj: str, facts: Facts) -> bool:
    """Does `obj` satisfy the category expression `expr` (see the module docstring) in `facts`?"""
    for term in expr.split("&"):
        negated = term.startswith("!")
        hit = any(a == obj or ("is-a", obj, a) in facts for a in term.lstrip("!").split("|"))
        if hit == negated:
            return False
    return True


def category_text(expr: str) -> str:
    """'drink&!caffeinated' -> 'drink, not caffeinated', for messages to people."""
    parts = []
    for term in expr.split("&"):
        words = " or ".join(term.lstrip("!").split("|")).replace("_", " ")
        parts.append(f"not {words}" if term.startswith("!") else words)
    return ", ".join(parts)


def _is_a(facts: Iterable[Fact]) -> Iterator[Fact]:
    return (f for f in facts if f[0] == "is-a" and len(f) == 3)
