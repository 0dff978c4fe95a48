"""A run's trace as a timeline a person can read in a terminal (`humanoid trace show`).

One pass over the messages builds a list of events (command, goal, plan versions, subgoal
starts and results, motion plans, safety events, warnings, the end) and a summary; the text
and the `--json` views render the same events, so they can't disagree.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from typing import Any

from humanoid.trace.channels import CHANNELS, LOG_LEVELS
from humanoid.trace.reader import Trace, TraceError, TraceMessage, read_trace

_WARNING = LOG_LEVELS["WARNING"]
_LEVEL_NAMES = {value: name for name, value in LOG_LEVELS.items()}


def _describe_subgoal(subgoal: dict[str, Any] | None) -> str:
    if not subgoal:
        return "?"
    args = ", ".join(f"{k}={v}" for k, v in (subgoal.get("args") or {}).items())
    return f"{subgoal.get('skill', '?')}({args})"


def _describe_predicates(predicates: list[Any]) -> str:
    parts = []
    for p in predicates:
        if isinstance(p, list | tuple) and p:
            parts.append(f"{p[0]}({', '.join(str(x) for x in p[1:])})")
        else:
            parts.append(str(p))
    return " & ".join(parts)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class _TimelineBuilder:
    """Turns messages into events and a summary, one message at a time."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        meta_start = trace.meta.get("start_wall_time_ns")
        first_log = trace.messages[0].log_time_ns if trace.messages else 0
        self.start_ns = int(meta_start) if isinstance(meta_start, int) else first_log
        self.events: list[dict[str, Any]] = []
        self.subgoal_starts: dict[int, TraceMessage] = {}
        self.subgoals_ok = 0
        self.subgoals_failed = 0
        self.plans = 0
        self.replans = 0
        self.safety_events = 0
        self.warnings = 0
        self.telemetry: list[dict[str, Any]] = []
        self.timings: dict[str, list[float]] = defaultdict(list)
        self.sim_times: list[float] = []

    def event(self, m: TraceMessage, kind: str, text: str, /, **fields: Any) -> None:
        self.events.append(
            {
                "kind": kind,
                "topic": m.topic,
                "sim_time": m.sim_time,
                "wall_offset_s": (m.log_time_ns - self.start_ns) / 1e9,
                "text": text,
                **fields,
            }
        )

    def add(self, m: TraceMessage) -> None:
        if m.sim_time is not None:
            self.sim_times.append(m.sim_time)
        handler = getattr(self, "_on_" + m.topic.strip("/").replace("/", "_"), None)
        if handler is None:
            if m.topic not in CHANNELS:  # an extra topic: show that it happened
                handler = self._on_extra
            else:
                return
        try:
            handler(m, m.payload)
        except Exception as exc:  # a malformed payload costs one line, not the whole timeline
            self.event(m, "unreadable", f"unreadable {m.topic} message ({type(exc).__name__}: {exc})")

    def _on_planner_command(self, m: TraceMessage, p: dict[str, Any]) -> None:
        source = f" (from {p['source']})" if p.get("source") else ""
        self.event(m, "command", f'command "{p.get("text", "")}"{source}')

    def _on_planner_goal(self, m: TraceMessage, p: dict[str, Any]) -> None:
        text = _describe_predicates(p.get("predicates") or []) or p.get("text", "")
        if p.get("text") and p.get("predicates"):
            text = f"{text}  ({p['text']})"
        self.event(m, "goal", f"goal    {text}")

    def _on_planner_plan(self, m: TraceMessage, p: dict[str, Any]) -> None:
        self.plans += 1
        version = p.get("plan_version", self.plans)
        is_replan = "replan" in (p.get("trigger"), p.get("event")) or (
            isinstance(version, int) and version > 1
        )
        self.replans += is_replan
        subgoals = p.get("subgoals") or []
        steps = " -> ".join(_describe_subgoal(s) for s in subgoals) or "(empty plan)"
        label = "REPLAN" if is_replan else "plan"
        reason = p.get("reason") or ("replan" if is_replan else "initial")
        self.event(
            m,
            "replan" if is_replan else "plan",
            f"{label} v{version} ({reason}): {len(subgoals)} subgoal{'' if len(subgoals) == 1 else 's'}: {steps}",
            plan_version=version,
            reason=reason,
            subgoals=[_describe_subgoal(s) for s in subgoals],
        )

    def _on_planner_subgoal(self, m: TraceMessage, p: dict[str, Any]) -> None:
        # The result is under "result", or the payload is a SkillResult dict itself.
        result = p.get("result") if isinstance(p.get("result"), dict) else (p if "succeeded" in p else None)
        subgoal = p.get("subgoal") or (result or {}).get("subgoal") or {}
        index = p.get("index", subgoal.get("index", 0))
        name = _describe_subgoal(subgoal)
        if p.get("event") in ("start", "subgoal_start") or result is None:
            self.subgoal_starts[index] = m
            self.event(m, "subgoal_start", f"  [{index}] start   {name}", index=index, subgoal=name)
            return
        ok = bool(result.get("succeeded"))
        duration = self._subgoal_duration(index, m, result)
        took = f" in {duration:.2f} s" if duration is not None else ""
        if ok:
            self.subgoals_ok += 1
            text = f"  [{index}] ok      {name}{took}"
        else:
            self.subgoals_failed += 1
            why = result.get("reason") or "failed"
            detail = f" - {result['message']}" if result.get("message") else ""
            text = f"  [{index}] FAILED  {name}: {why}{detail}{took}"
        self.event(
            m,
            "subgoal_result",
            text,
            index=index,
            subgoal=name,
            ok=ok,
            reason=result.get("reason"),
            message=result.get("message", ""),
            duration_s=duration,
        )

    def _subgoal_duration(self, index: int, m: TraceMessage, result: dict[str, Any]) -> float | None:
        """Sim seconds the subgoal took: from the SkillResult, else from its start event."""
        start, end = _number(result.get("sim_time_start")), _number(result.get("sim_time_end"))
        if start is not None and end is not None and end > start:
            return end - start
        started = self.subgoal_starts.get(index)
        if started is not None and started.sim_time is not None and m.sim_time is not None:
            return m.sim_time - started.sim_time
        wall = _number(result.get("wall_time_s"))
        return wall if wall else None

    def _on_motion_plan(self, m: TraceMessage, p: dict[str, Any]) -> None:
        waypoints = len(p.get("waypoints") or [])
        t = _number(p.get("planning_time_s"))
        took = f" in {t:.3f} s" if t is not None else ""
        planner = f" {p['planner']}" if p.get("planner") else ""
        label = "/".join(str(p[k]) for k in ("skill", "motion") if p.get(k)) or "?"
        self.event(
            m,
            "motion_plan",
            f"        motion  {label}: {waypoints} waypoints,{planner} {p.get('status', '?')}{took}",
            skill=p.get("skill"),
            status=p.get("status"),
            waypoints=waypoints,
        )

    def _on_safety_event(self, m: TraceMessage, p: dict[str, Any]) -> None:
        self.safety_events += 1
        severity = f" ({p['severity']})" if p.get("severity") else ""
        said = p.get("detail") or p.get("message")
        message = f": {said}" if said else ""
        self.event(m, "safety", f"SAFETY  {p.get('kind', '?')}{severity}{message}", safety_kind=p.get("kind"))

    def _on_log(self, m: TraceMessage, p: dict[str, Any]) -> None:
        level = p.get("level", 0)
        if isinstance(level, int) and level >= _WARNING:
            self.warnings += 1
            name = f"{p['name']}: " if p.get("name") else ""
            self.event(
                m, "log", f"{_LEVEL_NAMES.get(level, level)}  {name}{p.get('message', '')}", level=level
            )

    def _on_control_telemetry(self, m: TraceMessage, p: dict[str, Any]) -> None:
        self.telemetry.append(p)

    def _on_timing(self, m: TraceMessage, p: dict[str, Any]) -> None:
        duration = _number(p.get("duration_s", p.get("seconds")))
        if duration is not None:
            self.timings[str(p.get("name", "?"))].append(duration)

    def _on_extra(self, m: TraceMessage, p: dict[str, Any]) -> None:
        what = p.get("event") or p.get("kind") or p.get("message") or ""
        self.event(m, "other", f"{m.topic}  {what}".rstrip())

    def _on_run_end(self, m: TraceMessage, p: dict[str, Any]) -> None:
        reason = f": {p['reason']}" if p.get("reason") else ""
        self.event(
            m,
            "end",
            f"end     {p.get('outcome', '?')} (exit code {p.get('exit_code', '?')}){reason}",
            outcome=p.get("outcome"),
            exit_code=p.get("exit_code"),
        )

    def summary(self) -> dict[str, Any]:
        end = self.trace.end or {}
        sim_s = max(self.sim_times) - min(self.sim_times) if self.sim_times else None
        wall_s = _number(end.get("wall_time_s"))
        if wall_s is None and self.trace.messages:
            wall_s = (self.trace.messages[-1].log_time_ns - self.start_ns) / 1e9
        rtf = sim_s / wall_s if sim_s and wall_s and wall_s > 0 else None
        return {
            "subgoals_ok": self.subgoals_ok,
            "subgoals_failed": self.subgoals_failed,
            "plans": self.plans,
            "replans": self.replans,
            "safety_events": self.safety_events,
            "warnings": self.warnings,
            "sim_time_s": sim_s,
            "wall_time_s": wall_s,
            "real_time_factor": rtf,
            "outcome": end.get("outcome"),
            "exit_code": end.get("exit_code"),
            "messages": len(self.trace.messages),
            "telemetry_samples": len(self.telemetry),
            "tracking_error_max_rad": _max_of(
                self.telemetry, "arm_tracking_error_max", "tracking_error_max_rad"
            ),
            "torque_max_nm": _max_of(self.telemetry, "torque_abs_max"),
            "policy_latency_max_ms": _max_of(
                [
                    {"ms": s.get("policy_latency_ms", _scaled(s.get("policy_latency_us"), 1e-3))}
                    for s in self.telemetry
                ],
                "ms",
            ),
            "timings": {
                name: {"count": len(d), "total_s": sum(d), "max_s": max(d)}
                for name, d in self.timings.items()
            },
        }


def _scaled(value: Any, factor: float) -> float | None:
    number = _number(value)
    return None if number is None else number * factor


def _max_of(samples: list[dict[str, Any]], *keys: str) -> float | None:
    values = [v for s in samples for k in keys if (v := _number(s.get(k))) is not None]
    return max(values) if values else None


def damage_note(trace: Trace) -> str | None:
    """One line on why the trace stops early, or None if it is whole."""
    d = trace.damage
    if d is None:
        return None
    if d.in_summary:
        return f"trace summary is damaged at byte {d.offset}: {d.reason}"
    if d.kind == "unclosed":
        return (
            f"trace ends early at byte {d.offset}: {d.reason}, after {len(trace.messages)} messages"
            " - the run probably crashed (or is still running)"
        )
    return f"trace ends early at byte {d.offset}: {d.reason} - the run probably crashed"


def timeline_json(trace: Trace) -> dict[str, Any]:
    """The timeline as data: header, events in file order, summary and damage (for `--json`)."""
    builder = _TimelineBuilder(trace)
    for message in trace.messages:
        builder.add(message)
    meta = trace.meta
    return {
        "path": str(trace.path),
        "header": {
            "command": meta.get("command"),
            "robot": meta.get("robot"),
            "scene": meta.get("scene"),
            "seed": meta.get("seed"),
            "start_wall_time": meta.get("start_wall_time"),
            "versions": meta.get("versions", {}),
        },
        "events": builder.events,
        "summary": builder.summary(),
        "damage": None
        if trace.damage is None
        else {
            "offset": trace.damage.offset,
            "kind": trace.damage.kind,
            "reason": trace.damage.reason,
            "in_summary": trace.damage.in_summary,
            "note": damage_note(trace),
        },
    }


def _seconds(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.2f}" if signed else f"{value:.3f}"


def format_timeline(trace: Trace) -> str:
    """The timeline as text: header, one line per event, a summary, and any damage."""
    data = timeline_json(trace)
    header, summary = data["header"], data["summary"]
    lines = [f"trace    {data['path']}"]
    if not trace.meta:
        lines.append("         (no /run/meta: the run wrote nothing about itself)")
    else:
        lines.append(f"command  {header['command']!r}")
        lines.append(f"robot    {header['robot']}   scene {header['scene']}   seed {header['seed']}")
        lines.append(f"started  {header['start_wall_time']}")
    lines.append("")
    lines.append(f"{'sim [s]':>9} {'wall [s]':>9}  event")
    for e in data["events"]:
        lines.append(f"{_seconds(e['sim_time']):>9} {_seconds(e['wall_offset_s'], True):>9}  {e['text']}")
    if not data["events"]:
        lines.append("        (no events)")
    if trace.end is None:
        lines.append(f"{'':>9} {'':>9}  (no /run/end: the run did not finish)")
    lines.append("")
    lines.append(
        f"subgoals {summary['subgoals_ok']} ok, {summary['subgoals_failed']} failed"
        f" | plans {summary['plans']}, replans {summary['replans']}"
        f" | safety events {summary['safety_events']} | warnings {summary['warnings']}"
    )
    times = []
    if summary["sim_time_s"] is not None:
        times.append(f"sim {summary['sim_time_s']:.2f} s")
    if summary["wall_time_s"] is not None:
        times.append(f"wall {summary['wall_time_s']:.2f} s")
    if summary["real_time_factor"] is not None:
        times.append(f"real-time factor {summary['real_time_factor']:.2f}x")
    if times:
        lines.append(" | ".join(times))
    if summary["telemetry_samples"]:
        parts = [f"telemetry {summary['telemetry_samples']} samples"]
        if summary["tracking_error_max_rad"] is not None:
            parts.append(f"max tracking error {summary['tracking_error_max_rad']:.4f} rad")
        if summary["torque_max_nm"] is not None:
            parts.append(f"max torque {summary['torque_max_nm']:.1f} N m")
        if summary["policy_latency_max_ms"] is not None:
            parts.append(f"max policy latency {summary['policy_latency_max_ms']:.2f} ms")
        lines.append(" | ".join(parts))
    if summary["timings"]:
        top = sorted(summary["timings"].items(), key=lambda kv: -kv[1]["total_s"])[:5]
        lines.append("timings  " + ", ".join(f"{n} {t['total_s']:.3f} s ({t['count']}x)" for n, t in top))
    if trace.skipped_messages:
        lines.append(f"skipped  {trace.skipped_messages} messages that are not JSON")
    note = damage_note(trace)
    if note:
        lines.append("")
        lines.append(f"WARNING: {note}")
    return "\n".join(lines)


def main_show(path: str, as_json: bool = False) -> int:
    """`humanoid trace show PATH [--json]`: print the timeline; 0 if read, 2 if not a trace."""
    try:
        trace = read_trace(path)
    except TraceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if as_json:
        print(json.dumps(timeline_json(trace), indent=2))
    else:
        print(format_timeline(trace))
    return 0
