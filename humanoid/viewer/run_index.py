"""One run's trace as the viewer shows it, built in one streaming pass over the file.

The viewer never holds a trace's messages: `index_run` walks the file with `iter_trace` (one
record in memory at a time) and keeps only what the page draws: the events of the timeline,
the plan versions and how each differs from the one before, the run tree (plan, subgoal,
motion plan), the scene map with the executed base path, and controller telemetry decimated
to a bounded number of points (maxima are taken over every sample). A damaged trace gives
everything up to the damage and a `damage` note saying where it stops.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

from humanoid.trace.channels import LOG_LEVELS
from humanoid.trace.reader import TraceMessage, iter_trace

MAX_PLOT_POINTS = 1000  # per series, kept between this and twice this; a 10-minute run has 6000
MAX_PATH_POINTS = 2000
MAX_LOG_LINES = 200
_WARNING = LOG_LEVELS["WARNING"]
_LEVEL_NAMES = {value: name for name, value in LOG_LEVELS.items()}
_VIDEO_SUFFIXES = (".mp4", ".webm")
# /planner/event kinds that are an operator deciding something (approvals, confirmations)
_OPERATOR_WORDS = ("approv", "operator", "confirm", "reject", "ask")
# payload keys an LLM backend puts in its plan or timing messages; shown as they are
_LLM_KEYS = ("prompt", "messages", "response", "raw_response", "tokens", "usage", "model", "prompt_tokens")

TELEMETRY_SERIES = (
    "t",
    "wall",
    "err_max",
    "err_rms",
    "torque",
    "vx",
    "vy",
    "cmd_vx",
    "cmd_vy",
    "latency_ms",
    "height",
    "x",
    "y",
)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def describe_subgoal(subgoal: dict[str, Any] | None) -> str:
    if not subgoal:
        return "?"
    args = ", ".join(f"{k}={v}" for k, v in (subgoal.get("args") or {}).items())
    return f"{subgoal.get('skill', '?')}({args})"


class _Decimator:
    """Keeps at most `2 * cap` evenly spaced rows of a stream of unknown length.

    Every `stride`-th row is kept; when the kept rows reach `2 * cap`, every other one is
    dropped and the stride doubles. Memory stays bounded whatever the trace's length.
    """

    def __init__(self, names: tuple[str, ...], cap: int) -> None:
        self.names = names
        self.cap = cap
        self.stride = 1
        self.seen = 0
        self.columns: dict[str, list[Any]] = {n: [] for n in names}

    def add(self, row: dict[str, Any]) -> None:
        if self.seen % self.stride == 0:
            for name in self.names:
                self.columns[name].append(row.get(name))
            if len(self.columns[self.names[0]]) >= 2 * self.cap:
                for name in self.names:
                    self.columns[name] = self.columns[name][::2]
                self.stride *= 2
        self.seen += 1


def _plan_diff(before: list[str], after: list[str]) -> dict[str, list[str]]:
    """What a new plan version changed: subgoals removed, added and kept (as described)."""
    remaining = list(after)
    kept, removed = [], []
    for step in before:
        if step in remaining:
            remaining.remove(step)
            kept.append(step)
        else:
            removed.append(step)
    return {"removed": removed, "added": remaining, "kept": kept}


def _llm_details(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: payload[k] for k in _LLM_KEYS if k in payload}


def find_clip(trace_path: Path, meta: dict[str, Any] | None = None) -> Path | None:
    """A video rendered from the run: the one `/run/meta` names (`video_path`), else one beside
    the trace, named like it or the only video in a folder with only this trace."""
    named = (meta or {}).get("video_path")
    if isinstance(named, str) and named:
        path = Path(named) if Path(named).is_absolute() else trace_path.parent / named
        if path.is_file():
            return path
    for suffix in _VIDEO_SUFFIXES:
        same = trace_path.with_suffix(suffix)
        if same.is_file():
            return same
    videos = [p for p in trace_path.parent.glob("*") if p.suffix in _VIDEO_SUFFIXES and p.is_file()]
    traces = list(trace_path.parent.glob("*.mcap"))
    return videos[0] if len(videos) == 1 and len(traces) == 1 else None


class RunIndexer:
    """Consumes a trace's messages one by one; `result()` is the viewer's view of the run."""

    def __init__(self, path: Path, max_points: int = MAX_PLOT_POINTS) -> None:
        self.path = path
        self.start_ns: int | None = None
        self.meta: dict[str, Any] = {}
        self.end: dict[str, Any] | None = None
        self.events: list[dict[str, Any]] = []
        self.plans: list[dict[str, Any]] = []
        self.subgoals: list[dict[str, Any]] = []
        self.motions: list[dict[str, Any]] = []
        self.open_subgoal: dict[str, Any] | None = None
        self.scene: dict[str, Any] | None = None
        self.base_paths: list[list[list[float]]] = []  # planned walks (navigate), in order
        self.telemetry = _Decimator(TELEMETRY_SERIES, max_points)
        self.telemetry_max: dict[str, float] = {}
        self.telemetry_count = 0
        self.labels: list[dict[str, Any]] = []  # motion request label changes, for the plot tooltips
        self.timings: dict[str, list[float]] = defaultdict(list)
        self.logs: list[dict[str, Any]] = []
        self.log_counts: dict[str, int] = defaultdict(int)
        self.messages = 0
        self.topics: dict[str, int] = defaultdict(int)
        self.last_sim: float | None = None
        self.min_sim: float | None = None
        self.last_wall = 0.0

    # -- clocks --------------------------------------------------------------------------

    def _clocks(self, m: TraceMessage) -> tuple[float | None, float]:
        if self.start_ns is None:
            self.start_ns = m.log_time_ns
        wall = (m.log_time_ns - self.start_ns) / 1e9
        self.last_wall = max(self.last_wall, wall)
        sim = m.sim_time
        if sim is not None:
            self.last_sim = sim if self.last_sim is None else max(self.last_sim, sim)
            self.min_sim = sim if self.min_sim is None else min(self.min_sim, sim)
        return sim, wall

    def _event(self, m: TraceMessage, kind: str, text: str, /, **fields: Any) -> dict[str, Any]:
        sim, wall = m.sim_time, (m.log_time_ns - (self.start_ns or m.log_time_ns)) / 1e9
        # A message without sim time (planning happens between control steps) sits at the
        # last sim time seen, so it still has a place on the sim-time axis.
        event = {
            "kind": kind,
            "topic": m.topic,
            "sim_time": sim,
            "t": sim if sim is not None else (self.last_sim or 0.0),
            "wall": wall,
            "text": text,
            **fields,
        }
        self.events.append(event)
        return event

    # -- messages -------------------------------------------------------------------------

    def add(self, m: TraceMessage) -> None:
        self.messages += 1
        self.topics[m.topic] += 1
        self._clocks(m)
        handler = getattr(self, "_on_" + m.topic.strip("/").replace("/", "_"), None)
        try:
            if handler is not None:
                handler(m, m.payload)
            elif m.topic not in ("/scene/entities",):
                self._on_other(m, m.payload)
        except Exception as exc:  # one malformed payload costs one line, not the page
            self._event(m, "unreadable", f"unreadable {m.topic} message ({type(exc).__name__}: {exc})")

    def _on_run_meta(self, m: TraceMessage, p: dict[str, Any]) -> None:
        self.meta = p
        start = p.get("start_wall_time_ns")
        if isinstance(start, int):
            self.start_ns = start

    def _on_planner_command(self, m: TraceMessage, p: dict[str, Any]) -> None:
        source = f" (from {p['source']})" if p.get("source") else ""
        self._event(m, "command", f'command "{p.get("text", "")}"{source}', backend=p.get("backend"))

    def _on_planner_goal(self, m: TraceMessage, p: dict[str, Any]) -> None:
        self._event(m, "goal", f"goal {p.get('text') or p.get('predicates')}", predicates=p.get("predicates"))

    def _on_planner_plan(self, m: TraceMessage, p: dict[str, Any]) -> None:
        steps = [describe_subgoal(s) for s in p.get("subgoals") or []]
        version = p.get("plan_version", len(self.plans) + 1)
        before = self.plans[-1]["subgoals"] if self.plans else []
        replan = bool(self.plans) or p.get("trigger") == "replan"
        plan = {
            "version": version,
            "reason": p.get("reason") or ("replan" if replan else "initial"),
            "trigger": p.get("trigger"),
            "failure_reason": p.get("failure_reason"),
            "failed_subgoal": describe_subgoal(p["failed_subgoal"]) if p.get("failed_subgoal") else None,
            "backend": p.get("backend"),
            "planning_time_s": _number(p.get("planning_time_s")),
            "subgoals": steps,
            "diff": _plan_diff(before, steps) if self.plans else None,
            "llm": _llm_details(p),
        }
        event = self._event(
            m,
            "replan" if replan else "plan",
            f"{'REPLAN' if replan else 'plan'} v{version}: {plan['reason']}",
            plan_version=version,
        )
        plan.update(sim_time=event["sim_time"], t=event["t"], wall=event["wall"])
        self.plans.append(plan)

    def _on_planner_subgoal(self, m: TraceMessage, p: dict[str, Any]) -> None:
        result = p.get("result") if isinstance(p.get("result"), dict) else None
        subgoal = p.get("subgoal") or (result or {}).get("subgoal") or {}
        index = p.get("index", subgoal.get("index", 0))
        version = p.get("plan_version", subgoal.get("version"))
        sim, wall = m.sim_time, (m.log_time_ns - (self.start_ns or m.log_time_ns)) / 1e9
        t = sim if sim is not None else (self.last_sim or 0.0)
        if p.get("event") in ("start", "subgoal_start") or result is None:
            entry = {
                "id": len(self.subgoals),
                "plan_version": version,
                "index": index,
                "label": describe_subgoal(subgoal),
                "skill": subgoal.get("skill"),
                "args": subgoal.get("args") or {},
                "success": subgoal.get("success"),
                "time_budget_s": subgoal.get("time_budget_s"),
                "t0": t,
                "t1": None,
                "wall0": wall,
                "wall1": None,
                "status": "running",
                "reason": None,
                "message": "",
                "observations": {},
                "duration_s": None,
                "motions": [],
            }
            self.subgoals.append(entry)
            self.open_subgoal = entry
            return
        entry = self.open_subgoal
        if entry is None or entry["index"] != index:  # a result without its start: make one up
            self._on_planner_subgoal(m, {**p, "event": "start", "result": None})
            entry = self.open_subgoal
            assert entry is not None
        start, end = _number(result.get("sim_time_start")), _number(result.get("sim_time_end"))
        entry.update(
            t1=t,
            wall1=wall,
            status="ok" if result.get("succeeded") else "failed",
            reason=result.get("reason"),
            message=result.get("message", ""),
            observations=result.get("observations") or {},
            wall_time_s=_number(result.get("wall_time_s")),
            duration_s=(end - start) if start is not None and end is not None else t - entry["t0"],
        )
        self.open_subgoal = None

    def _on_motion_plan(self, m: TraceMessage, p: dict[str, Any]) -> None:
        sim, wall = m.sim_time, (m.log_time_ns - (self.start_ns or m.log_time_ns)) / 1e9
        waypoints = p.get("waypoints") or []
        motion = {
            "id": len(self.motions),
            "subgoal": self.open_subgoal["id"] if self.open_subgoal else None,
            "label": "/".join(str(p[k]) for k in ("skill", "motion") if p.get(k)) or "?",
            "arm": p.get("arm"),
            "status": p.get("status"),
            "planner": p.get("planner"),
            "planning_time_s": _number(p.get("planning_time_s")),
            "waypoints": len(waypoints),
            "start": waypoints[0] if waypoints else None,
            "goal": waypoints[-1] if waypoints else None,
            "joint_names": p.get("joint_names") or [],
            "t": sim if sim is not None else (self.last_sim or 0.0),
            "wall": wall,
        }
        self.motions.append(motion)
        if p.get("kind") == "base_path" and p.get("points"):
            # the map draws every planned walk after the scene's own (empty at the start) path
            self.base_paths.append([[pt[0], pt[1]] for pt in p["points"] if len(pt) >= 2])
        if self.open_subgoal is not None:
            self.open_subgoal["motions"].append(motion["id"])

    def _on_control_telemetry(self, m: TraceMessage, p: dict[str, Any]) -> None:
        self.telemetry_count += 1
        vel = p.get("base_linvel") or [None, None, None]
        cmd = p.get("base_vel_cmd") or p.get("cmd_base_vel") or [0.0, 0.0]  # no walking yet: 0
        pos = p.get("base_pos") or [None, None, None]
        latency = _number(p.get("policy_latency_us"))
        row = {
            "t": m.sim_time,
            "wall": (m.log_time_ns - (self.start_ns or m.log_time_ns)) / 1e9,
            "err_max": _number(p.get("arm_tracking_error_max")),
            "err_rms": _number(p.get("arm_tracking_error_rms")),
            "torque": _number(p.get("torque_abs_max")),
            "vx": _number(vel[0]),
            "vy": _number(vel[1]) if len(vel) > 1 else None,
            "cmd_vx": _number(cmd[0]),
            "cmd_vy": _number(cmd[1]) if len(cmd) > 1 else None,
            "latency_ms": latency / 1000 if latency is not None else None,
            "height": _number(p.get("base_height")),
            "x": _number(pos[0]),
            "y": _number(pos[1]) if len(pos) > 1 else None,
        }
        if row["t"] is None:
            return
        for key, value in row.items():  # 5 decimals is finer than any plot; halves the page's JSON
            if value is not None:
                row[key] = round(value, 5)
        self.telemetry.add(row)
        for key in ("err_max", "torque", "latency_ms"):
            value = row[key]
            if value is not None and value > self.telemetry_max.get(key, -math.inf):
                self.telemetry_max[key] = value
        label = p.get("label")
        if label and (not self.labels or self.labels[-1]["label"] != label):
            self.labels.append({"t": row["t"], "label": label})

    def _on_safety_event(self, m: TraceMessage, p: dict[str, Any]) -> None:
        severity = f" ({p['severity']})" if p.get("severity") else ""
        detail = p.get("detail") or p.get("message") or ""
        self._event(
            m,
            "safety",
            f"SAFETY {p.get('kind', '?')}{severity}: {detail}".rstrip(": "),
            details=p.get("details"),
        )

    def _on_timing(self, m: TraceMessage, p: dict[str, Any]) -> None:
        duration = _number(p.get("duration_s", p.get("seconds")))
        if duration is not None:
            self.timings[str(p.get("name", "?"))].append(duration)
        llm = _llm_details(p.get("details") or {}) or _llm_details(p)
        if llm:  # an LLM call: keep its prompt, response and tokens for the run tree
            self._event(m, "llm", f"LLM {p.get('name', 'call')} {duration or 0:.2f} s", llm=llm)

    def _on_log(self, m: TraceMessage, p: dict[str, Any]) -> None:
        level = p.get("level", 0)
        name = _LEVEL_NAMES.get(level, str(level))
        self.log_counts[name] += 1
        if isinstance(level, int) and level >= _WARNING:
            who = f"{p['name']}: " if p.get("name") else ""
            self._event(m, "log", f"{name} {who}{p.get('message', '')}", level=level)
        if len(self.logs) < MAX_LOG_LINES:
            self.logs.append({"level": name, "name": p.get("name", ""), "message": p.get("message", "")})

    def _on_scene_map(self, m: TraceMessage, p: dict[str, Any]) -> None:
        self.scene = p

    def _scene_with_paths(self) -> dict[str, Any] | None:
        """The scene map with the walks planned during the run joined into `planned_base_path`."""
        if self.scene is None or not self.base_paths:
            return self.scene
        joined = [pt for path in self.base_paths for pt in path]
        return {**self.scene, "planned_base_path": list(self.scene.get("planned_base_path") or []) + joined}

    def _on_planner_event(self, m: TraceMessage, p: dict[str, Any]) -> None:
        what = str(p.get("event") or p.get("kind") or "")
        operator = any(word in what.lower() for word in _OPERATOR_WORDS)
        self._event(
            m,
            "approval" if operator else "planner",
            f"{'OPERATOR ' if operator else ''}{what}: {p.get('message', '')}".rstrip(": "),
            payload=p,
        )

    def _on_run_end(self, m: TraceMessage, p: dict[str, Any]) -> None:
        self.end = p
        reason = f": {p['reason']}" if p.get("reason") else ""
        self._event(m, "end", f"end {p.get('outcome', '?')} (exit code {p.get('exit_code', '?')}){reason}")

    def _on_other(self, m: TraceMessage, p: dict[str, Any]) -> None:
        what = p.get("event") or p.get("kind") or p.get("message") or ""
        self._event(m, "other", f"{m.topic} {what}".rstrip())

    # -- the result --------------------------------------------------------------------------

    def result(self, damage: Any, size_bytes: int) -> dict[str, Any]:
        meta = self.meta
        columns = self.telemetry.columns
        # [x, y, sim time]: the page puts the robot where it was at the cursor's time
        path_xy = [
            [x, y, t]
            for x, y, t in zip(columns["x"], columns["y"], columns["t"], strict=True)
            if x is not None and y is not None
        ]
        end = self.end or {}
        clip = find_clip(self.path, meta)
        return {
            "path": str(self.path),
            "name": self.path.name if self.path.name != "trace.mcap" else self.path.parent.name,
            "size_bytes": size_bytes,
            "header": {
                "command": meta.get("command"),
                "robot": meta.get("robot"),
                "scene": meta.get("scene"),
                "seed": meta.get("seed"),
                "scenario": (meta.get("scenario") or {}).get("id")
                if isinstance(meta.get("scenario"), dict)
                else None,
                "start_wall_time": meta.get("start_wall_time"),
                "versions": meta.get("versions", {}),
            },
            "end": self.end,
            "outcome": end.get("outcome") if self.end else ("crashed" if damage else "unfinished"),
            "damage": _damage_json(damage, self),
            "span": {
                "sim0": self.min_sim or 0.0,
                "sim1": self.last_sim or 0.0,
                "wall1": self.last_wall,
            },
            "events": self.events,
            "plans": self.plans,
            "subgoals": self.subgoals,
            "motions": self.motions,
            "telemetry": {
                "count": self.telemetry_count,
                "kept": len(columns["t"]),
                "stride": self.telemetry.stride,
                "max": self.telemetry_max,
                "series": {k: v for k, v in columns.items() if k not in ("x", "y")},
                "labels": self.labels,
            },
            "map": {
                "scene": self._scene_with_paths(),
                "executed_path": path_xy[:: max(1, len(path_xy) // MAX_PATH_POINTS)],
            },
            "timings": {
                name: {"count": len(d), "total_s": sum(d), "max_s": max(d)}
                for name, d in self.timings.items()
            },
            "logs": {"counts": dict(self.log_counts), "lines": self.logs},
            "topics": dict(self.topics),
            "messages": self.messages,
            "clip": clip.name if clip else None,
            "clip_path": str(clip) if clip else None,
        }


def _damage_json(damage: Any, indexer: RunIndexer) -> dict[str, Any] | None:
    if damage is None:
        return None
    where = f"sim {indexer.last_sim:.2f} s" if indexer.last_sim is not None else "before any sim time"
    if damage.in_summary:
        note = (
            f"The trace's summary is damaged at byte {damage.offset} ({damage.reason}); no message was lost."
        )
    else:
        note = (
            f"This trace stops at byte {damage.offset}, after {indexer.messages} messages ({where}, "
            f"wall +{indexer.last_wall:.2f} s): {damage.reason}. The run probably crashed; "
            "everything before that point is shown."
        )
    return {
        "offset": damage.offset,
        "kind": damage.kind,
        "reason": damage.reason,
        "in_summary": damage.in_summary,
        "messages_read": indexer.messages,
        "last_sim_time": indexer.last_sim,
        "note": note,
    }


def index_run(path: str | os.PathLike[str], max_points: int = MAX_PLOT_POINTS) -> dict[str, Any]:
    """The viewer's view of one trace, read in one streaming pass.

    Raises `humanoid.trace.TraceError` for a missing file or one that is not MCAP; a damaged
    trace gives everything before the damage and a `damage` note.
    """
    stream = iter_trace(path)
    indexer = RunIndexer(Path(path), max_points)
    for message in stream:
        indexer.add(message)
    return indexer.result(stream.damage, stream.size_bytes)
