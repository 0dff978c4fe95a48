"""Operator supervision from a terminal: show each plan, ask approve / edit / reject.

`humanoid run --approve` installs `TerminalOperator` here (`install`); `run_planner` uses the
installed operator and checkpointer when its caller passes none, so the run orchestration
needs no change to be supervised. Answers:
  a / approve            run the plan as shown
  r [reason] / reject    stop; nothing moves
  e / edit               type the steps as JSON, e.g. [{"skill": "pick", "args": {"obj": "apple"}}];
                         they are validated like any backend's plan before they run
For an ambiguous command the operator types one of the listed ids.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

_installed: dict[str, Any] = {"operator": None, "checkpointer": None}


def install(
    operator: Callable[[dict[str, Any]], dict[str, Any]] | None, checkpoint_path: str | None = None
) -> None:
    """Make every later `run_planner` call in this process supervised (and checkpointed)."""
    from planner.graph import sqlite_checkpointer

    _installed["operator"] = operator
    _installed["checkpointer"] = sqlite_checkpointer(checkpoint_path) if checkpoint_path else None


def installed_operator() -> Callable[[dict[str, Any]], dict[str, Any]] | None:
    return _installed["operator"]


def installed_checkpointer() -> Any:
    return _installed["checkpointer"]


class TerminalOperator:
    """Asks on a terminal; end of input counts as a rejection (nothing moves unapproved)."""

    def __init__(self, inp: TextIO = sys.stdin, out: TextIO = sys.stderr) -> None:
        self.inp, self.out = inp, out

    def _ask(self, prompt: str) -> str:
        self.out.write(prompt)
        self.out.flush()
        line = self.inp.readline()
        return line.strip() if line else ""

    def __call__(self, question: dict[str, Any]) -> dict[str, Any]:
        if question.get("kind") == "choose":
            self.out.write(f"\n{question['question']}\n")
            choice = self._ask(f"which one ({', '.join(question['options'])})? ")
            return {"choice": choice}
        self.out.write(f"\nplan v{question['plan_version']} for {question['goal']} ({question['reason']}):\n")
        for i, sg in enumerate(question["subgoals"]):
            args = ", ".join(f"{k}={v}" for k, v in sg["args"].items())
            self.out.write(f"  {i}. {sg['skill']}({args})\n")
        answer = self._ask("approve, edit or reject? [a/e/r] ")
        word, _, rest = answer.partition(" ")
        if word in ("a", "approve", "y", "yes"):
            return {"action": "approve"}
        if word in ("e", "edit"):
            text = self._ask("steps as JSON: ")
            try:
                steps = json.loads(text)
            except json.JSONDecodeError as e:
                return {"action": "reject", "reason": f"the edit was not JSON ({e})"}
            return {"action": "edit", "subgoals": steps}
        return {"action": "reject", "reason": rest or ("no answer" if not answer else answer)}
