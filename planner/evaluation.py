"""Planner evaluation (run it with `python -m benchmarks.planner_eval`): scores a backend on
planner/eval/commands.yaml.

Grounds and plans every command of planner/eval/commands.yaml in the default kitchen as
authored and reports, per backend:
- grounding accuracy: the grounded goal equals the expected one up to variable names, with
  category expressions compared by what they denote in the catalogue ("a fizzy drink" ==
  "soda");
- plan success: the validated plan's predicted final state satisfies the expected goal;
- refusal accuracy: commands that must be refused are refused, ambiguous ones ask with the
  right options; false refusals of doable commands are counted apart;
- latency: grounding + planning + validation per command, after a warm-up.
Plans are made in the default kitchen as observed at the start, walking between stations
allowed; `default_world_out_of_reach` counts the goals that need walking (refused while the
motion layer has no `navigate` skill).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import re
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

EVAL_PATH = Path(__file__).resolve().parent / "eval" / "commands.yaml"
_FACT = re.compile(r"^\s*([a-z_-]+)\(([^)]*)\)\s*$")


@dataclasses.dataclass
class Case:
    command: str
    tag: str
    goal: tuple[tuple[str, ...], ...] = ()
    variables: dict[str, str] = dataclasses.field(default_factory=dict)
    refuse: str | None = None
    ask: tuple[str, ...] = ()


def parse_fact(text: str) -> tuple[str, ...]:
    m = _FACT.match(text)
    if not m:
        raise ValueError(f"{EVAL_PATH}: bad fact {text!r}; write it as pred(arg, arg)")
    return (m.group(1), *(a.strip() for a in m.group(2).split(",") if a.strip()))


def load_cases(path: Path = EVAL_PATH) -> list[Case]:
    cases = []
    for i, raw in enumerate(yaml.safe_load(path.read_text())):
        cmd = raw["cmd"] if "cmd" in raw else raw["repeat_cmd"][0] * int(raw["repeat_cmd"][1])
        kinds = [k for k in ("goal", "refuse", "ask") if k in raw]
        if len(kinds) != 1:
            raise ValueError(f"{path}: item {i} ({cmd!r}) needs exactly one of goal, refuse, ask")
        cases.append(
            Case(
                command=cmd,
                tag=str(raw.get("tag", "")),
                goal=tuple(parse_fact(f) for f in raw.get("goal", ())),
                variables={str(k): str(v) for k, v in (raw.get("vars") or {}).items()},
                refuse=str(raw["refuse"]) if "refuse" in raw else None,
                ask=tuple(sorted(raw.get("ask", ()))),
            )
        )
    return cases


def denotation(expr: str, catalogue: Mapping[str, Any]) -> frozenset[str]:
    """The catalogue objects a category expression admits: equal sets mean equal meaning."""
    from planner.goal import category_holds

    facts = frozenset(("is-a", o, c) for o, info in catalogue.items() for c in info.categories)
    return frozenset(o for o, info in catalogue.items() if info.graspable and category_holds(expr, o, facts))


def same_goal(expected: Case, goal: Any, catalogue: Mapping[str, Any]) -> bool:
    """Equal up to renaming variables, each variable's category compared by denotation."""
    got_vars = dict(goal.variables)
    if len(got_vars) != len(expected.variables):
        return False
    want = set(expected.goal)
    exp_names = list(expected.variables)
    for perm in itertools.permutations(got_vars, len(exp_names)):
        rename = dict(zip(exp_names, perm, strict=True))
        if {tuple(rename.get(t, t) for t in f) for f in want} != set(goal.facts):
            continue
        if all(
            denotation(expected.variables[v], catalogue) == denotation(got_vars[rename[v]], catalogue)
            for v in exp_names
        ):
            return True
    return False


def make_backend(name: str, args: argparse.Namespace) -> Any:
    if name == "embedded":
        from planner.backends.embedded import EmbeddedBackend

        return EmbeddedBackend()
    if name == "vllm":
        from planner.backends.vllm import VLLMBackend

        return VLLMBackend(base_url=args.base_url, model=args.model or "default")
    if name == "transformers":
        from planner.backends.transformers_lm import TransformersBackend

        if not args.model:
            raise SystemExit("--backend transformers needs --model PATH (a local causal LM folder)")
        return TransformersBackend(args.model)
    raise SystemExit(f"unknown backend {name!r}; use embedded, vllm or transformers")


def evaluate(backend: Any, cases: list[Case]) -> dict[str, Any]:
    from planner.backends.base import validate_plan
    from planner.errors import AmbiguityError, PlannerError
    from planner.goal import Goal
    from planner.grounding import default_grounder
    from planner.scene_snapshot import scene_observation
    from planner.symbolic import default_domain
    from planner.world_model import facts_from_observation

    catalogue = default_grounder().catalogue
    domain = default_domain()
    observed = scene_observation()
    facts = facts_from_observation(observed)
    default_facts = facts_from_observation(observed, can_walk=False)  # no navigate skill yet
    # warm-up: the embedding model and the parsed domain load once, not inside a timing
    for warm in ("make me a coffee", "something to keep me awake"):  # the second loads MiniLM
        try:
            backend.propose(backend.ground(warm), facts)
        except PlannerError:
            pass

    rows: list[dict[str, Any]] = []
    for case in cases:
        row: dict[str, Any] = {"command": case.command[:80], "tag": case.tag}
        t0 = time.perf_counter()
        try:
            goal = backend.ground(case.command)
        except AmbiguityError as e:
            row |= {"outcome": "ask", "options": sorted(e.options), "message": str(e)}
        except PlannerError as e:
            row |= {"outcome": "refused", "message": str(e)}
        except Exception as e:  # a crash is a finding, not the end of the evaluation
            row |= {"outcome": "crash", "message": f"{type(e).__name__}: {e}"}
        else:
            t_ground = time.perf_counter()
            row |= {"outcome": "goal", "goal": goal.describe()}
            row["grounding_ok"] = bool(case.goal) and same_goal(case, goal, catalogue)
            try:
                plan = validate_plan(backend.propose(goal, facts), goal, facts, domain)
                t_plan = time.perf_counter()
                final = plan.predicted[-1]
                row["steps"] = len(plan.subgoals)
                want = Goal("expected", case.goal, case.variables)
                row["plan_ok"] = bool(case.goal) and want.holds(final)
                row["latency_ms"] = (t_plan - t0) * 1e3
                row["ground_ms"] = (t_ground - t0) * 1e3
            except PlannerError as e:
                row |= {"plan_ok": False, "plan_error": str(e)}
            except Exception as e:
                row |= {"plan_ok": False, "plan_error": f"crash: {type(e).__name__}: {e}"}
            if case.goal:
                try:
                    validate_plan(backend.propose(goal, default_facts), goal, default_facts, domain)
                except PlannerError as e:
                    row["default_world"] = "out of reach" if "out of reach" in str(e) else "no plan"
                except Exception:
                    row["default_world"] = "crash"
                else:
                    row["default_world"] = "planned"
        if case.refuse:
            row["refusal_ok"] = row["outcome"] == "refused"
        elif case.ask:
            row["refusal_ok"] = row["outcome"] == "ask" and tuple(row.get("options", ())) == case.ask
        rows.append(row)
    return summarize(backend.name, rows, cases)


def summarize(name: str, rows: list[dict[str, Any]], cases: list[Case]) -> dict[str, Any]:
    positive = [r for r, c in zip(rows, cases, strict=True) if c.goal]
    negative = [r for r, c in zip(rows, cases, strict=True) if not c.goal]
    lat = sorted(r["latency_ms"] for r in positive if "latency_ms" in r)
    by_tag: dict[str, Counter] = defaultdict(Counter)
    for r, c in zip(rows, cases, strict=True):
        ok = (r.get("grounding_ok") and r.get("plan_ok")) if c.goal else r.get("refusal_ok")
        by_tag[c.tag]["n"] += 1
        by_tag[c.tag]["ok"] += bool(ok)

    def pct(k: str, group: list[dict[str, Any]]) -> float:
        return round(100.0 * sum(bool(r.get(k)) for r in group) / max(1, len(group)), 1)

    return {
        "backend": name,
        "commands": len(rows),
        "grounding_accuracy_pct": pct("grounding_ok", positive),
        "plan_success_pct": pct("plan_ok", positive),
        "refusal_accuracy_pct": pct("refusal_ok", negative),
        "false_refusals": sum(r["outcome"] != "goal" for r in positive),
        "crashes": sum(r["outcome"] == "crash" or "crash" in str(r.get("plan_error", "")) for r in rows),
        "latency_ms": {
            "p50": round(statistics.median(lat), 2) if lat else None,
            "p90": round(lat[int(0.9 * (len(lat) - 1))], 2) if lat else None,
            "max": round(lat[-1], 2) if lat else None,
        },
        "default_world_out_of_reach": sum(r.get("default_world") == "out of reach" for r in positive),
        "by_tag": {t: f"{c['ok']}/{c['n']}" for t, c in sorted(by_tag.items())},
        "failures": [
            r
            for r, c in zip(rows, cases, strict=True)
            if not ((r.get("grounding_ok") and r.get("plan_ok")) if c.goal else r.get("refusal_ok"))
        ],
    }
