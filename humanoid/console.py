"""What a person sees in the terminal during `humanoid run`: the plan, then each subgoal's progress."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TextIO


def _subgoal_text(sg: dict[str, Any]) -> str:
    args = ", ".join(f"{k}={v}" for k, v in sg.get("args", {}).items())
    return f"{sg.get('skill', '?')}({args})"


class Console:
    def __init__(self, out: TextIO, quiet: bool = False) -> None:
        self.out = out
        self.quiet = quiet
        self.total = 0

    def _p(self, text: str = "") -> None:
        if not self.quiet:
            print(text, file=self.out, flush=True)

    def header(self, command: str, scenario, robot: str) -> None:
        self._p(f'humanoid run "{command}"  (scene {scenario.scene}, robot {robot}, scenario {scenario.id})')

    def event(self, kind: str, p: dict[str, Any]) -> None:
        if kind == "goal":
            self._p(f"goal: {p.get('text') or p.get('predicates')}")
        elif kind in ("plan", "replan"):
            subgoals = p.get("subgoals", [])
            self.total = len(subgoals)
            version = p.get("plan_version", 1)
            why = "" if version == 1 else f"  (re-plan: {p.get('reason', '')})"
            self._p(f"plan v{version}{why}:")
            for i, sg in enumerate(subgoals, 1):
                self._p(f"  {i}. {_subgoal_text(sg)}")
        elif kind == "subgoal_start":
            sg = p.get("subgoal", {})
            self._p(f"  [{p.get('index', 0) + 1}/{self.total}] {_subgoal_text(sg)} ...")
        elif kind == "subgoal_result":
            r = p.get("result") or {}
            dt = (r.get("sim_time_end", 0.0) or 0.0) - (r.get("sim_time_start", 0.0) or 0.0)
            if r.get("succeeded"):
                self._p(f"        ok  ({dt:.1f} s sim, {r.get('wall_time_s', 0.0):.1f} s wall)")
            else:
                self._p(f"        FAILED: {r.get('reason')}: {r.get('message', '')}")
        elif kind == "safety":
            self._p(f"  safety: {p.get('kind')}: {p.get('detail', '')}")

    def summary(self, outcome: dict[str, Any]) -> None:
        verdict = "done" if outcome.get("success") else "task failed"
        parts = [verdict]
        if outcome.get("sim_time_s") is not None:
            parts.append(f"{outcome['sim_time_s']:.1f} s simulated")
        if outcome.get("wall_time_s") is not None:
            parts.append(f"{outcome['wall_time_s']:.1f} s wall")
        if outcome.get("real_time_factor"):
            parts.append(f"{outcome['real_time_factor']:.1f}x real time")
        self._p(", ".join(parts))
        if not outcome.get("success") and outcome.get("reason"):
            # a failure's reason is for people even with --quiet
            print(f"reason: {outcome['reason']}", file=self.out, flush=True)

    def error(self, text: str) -> None:
        print(f"error: {text}", file=self.out, flush=True)

    def trace_written(self, path: Path) -> None:
        self._p(f"trace: {path}  (humanoid trace show {path})")
