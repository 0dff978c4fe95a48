"""The trace's channels: one topic per kind of event, each with a small versioned JSON schema.

This table is the single source of truth for what a trace may hold: the writer registers
every channel from it, the reader and the timeline read the same field names, and
`docs/trace-format.md` documents it. Bump a channel's `version` when its payload changes shape
in a way a reader must know about (a renamed or retyped field); adding an optional field does
not need a bump.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MESSAGE_ENCODING = "json"
SCHEMA_ENCODING = "jsonschema"

# Every payload carries these two, added by the writer when the caller leaves them out.
_COMMON: dict[str, Any] = {
    "version": {"type": "integer", "description": "schema version of this channel"},
    "sim_time": {"type": ["number", "null"], "description": "simulated time in seconds, null if none"},
}

_NUMBER = {"type": "number"}
_STRING = {"type": "string"}
_INT = {"type": "integer"}
_OPT_NUMBER = {"type": ["number", "null"]}
_OPT_STRING = {"type": ["string", "null"]}
_OBJECT = {"type": "object"}
_OPT_OBJECT = {"type": ["object", "null"]}
_STR_LIST = {"type": "array", "items": _STRING}
_PREDICATES = {
    "type": "array",
    "items": _STR_LIST,
    "description": "symbolic predicates, e.g. [['filled', 'mug_red']]",
}

_SUBGOAL = {
    "type": "object",
    "description": "humanoid.contracts.Subgoal.to_dict()",
    "properties": {
        "skill": _STRING,
        "args": {"type": "object", "additionalProperties": _STRING},
        "success": _PREDICATES,
        "time_budget_s": _NUMBER,
        "index": _INT,
        "version": _INT,
    },
    "required": ["skill", "args"],
}

_SKILL_RESULT = {
    "type": ["object", "null"],
    "description": "humanoid.contracts.SkillResult.to_dict()",
    "properties": {
        "subgoal": _SUBGOAL,
        "succeeded": {"type": "boolean"},
        "reason": _OPT_STRING,
        "message": _STRING,
        "observations": _OBJECT,
        "sim_time_start": _NUMBER,
        "sim_time_end": _NUMBER,
        "wall_time_s": _NUMBER,
        "version": _INT,
    },
}


@dataclass(frozen=True)
class ChannelSpec:
    """One channel: its topic, the schema's name, its version and the JSON schema of a payload."""

    topic: str
    schema_name: str
    version: int
    description: str
    properties: dict[str, Any]
    required: tuple[str, ...] = ()

    def json_schema(self) -> dict[str, Any]:
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": self.schema_name,
            "description": f"{self.description} (schema version {self.version})",
            "type": "object",
            "properties": {**_COMMON, **self.properties},
            "required": ["version", *self.required],
        }


def _spec(topic: str, name: str, description: str, required: tuple[str, ...], /, **props: Any) -> ChannelSpec:
    return ChannelSpec(topic, name, 1, description, props, required)


# foxglove.Log's shape (https://docs.foxglove.dev/docs/visualization/message-schemas/log), so
# Foxglove's Log panel shows /log without any configuration.
LOG_LEVELS = {"UNKNOWN": 0, "DEBUG": 1, "INFO": 2, "WARNING": 3, "ERROR": 4, "FATAL": 5}
_FOXGLOVE_LOG = ChannelSpec(
    topic="/log",
    schema_name="foxglove.Log",
    version=1,
    description="A log message (Foxglove's well-known foxglove.Log shape)",
    properties={
        "timestamp": {
            "type": "object",
            "title": "time",
            "properties": {
                "sec": {"type": "integer", "minimum": 0},
                "nsec": {"type": "integer", "minimum": 0, "maximum": 999_999_999},
            },
            "description": "wall time of the log message",
        },
        "level": {
            "title": "foxglove.LogLevel",
            "description": "log level",
            "oneOf": [{"title": name, "const": value} for name, value in LOG_LEVELS.items()],
        },
        "message": _STRING,
        "name": {"type": "string", "description": "logger name"},
        "file": _STRING,
        "line": {"type": "integer", "minimum": 0},
    },
    required=("timestamp", "level", "message"),
)

_MAP_ITEM = {
    "type": "object",
    "properties": {
        "id": _STRING,
        "kind": _STRING,
        "pos": {"type": "array", "items": _NUMBER, "description": "[x, y, z], m"},
        "half_size": {"type": "array", "items": _NUMBER, "description": "world-aligned half extents, m"},
    },
    "required": ["id", "pos"],
}

# foxglove.SceneUpdate (https://docs.foxglove.dev/docs/visualization/message-schemas/scene-update):
# the scene map again as cubes and labels, so Foxglove's 3D panel draws it. The schema here
# names the top-level fields only; the entity shape is Foxglove's.
_FOXGLOVE_SCENE_UPDATE = ChannelSpec(
    topic="/scene/entities",
    schema_name="foxglove.SceneUpdate",
    version=1,
    description="The scene map as Foxglove scene entities (Foxglove's well-known foxglove.SceneUpdate shape)",
    properties={
        "deletions": {"type": "array", "items": _OBJECT},
        "entities": {"type": "array", "items": _OBJECT, "description": "foxglove.SceneEntity: cubes and texts"},
    },
    required=("entities",),
)

CHANNELS: dict[str, ChannelSpec] = {
    spec.topic: spec
    for spec in (
        _spec(
            "/run/meta",
            "humanoid.RunMeta",
            "What was run: command, configuration, robot, scene, seed, software versions",
            ("command",),
            command=_STRING,
            config=_OBJECT,
            robot=_OPT_STRING,
            scene=_OPT_STRING,
            seed={"type": ["integer", "null"]},
            versions={"type": "object", "additionalProperties": _STRING},
            start_wall_time={"type": "string", "description": "ISO 8601, UTC"},
            start_wall_time_ns={"type": "integer", "description": "Unix epoch, nanoseconds"},
        ),
        _spec(
            "/planner/command",
            "humanoid.Command",
            "The natural-language command the planner received",
            ("text",),
            text=_STRING,
            source={"type": "string", "description": "who gave it, e.g. 'cli', 'operator', 'scenario'"},
        ),
        _spec(
            "/planner/goal",
            "humanoid.Goal",
            "The goal the planner understood from the command",
            (),
            predicates=_PREDICATES,
            text={"type": "string", "description": "the goal in words"},
            backend={"type": "string", "description": "planner backend that produced it"},
        ),
        _spec(
            "/planner/plan",
            "humanoid.Plan",
            "A plan version: its subgoals and why it replaced the previous one",
            ("plan_version", "reason", "subgoals"),
            plan_version={"type": "integer", "description": "1 for the first plan, +1 per replan"},
            reason={"type": "string", "description": "why this plan exists, e.g. 'initial' or the failure"},
            trigger={"type": "string", "description": "'initial', 'replan' or 'operator'"},
            failed_subgoal=_OPT_OBJECT,
            failure_reason=_OPT_STRING,
            subgoals={"type": "array", "items": _SUBGOAL},
            backend=_STRING,
            planning_time_s=_OPT_NUMBER,
        ),
        _spec(
            "/planner/subgoal",
            "humanoid.SubgoalEvent",
            "A subgoal starting, or its result coming back",
            ("event", "subgoal"),
            event={
                "type": "string",
                "description": "'start' or 'result' ('subgoal_start'/'subgoal_result' too)",
            },
            index=_INT,
            plan_version=_INT,
            subgoal=_SUBGOAL,
            result=_SKILL_RESULT,
        ),
        _spec(
            "/motion/plan",
            "humanoid.MotionPlan",
            "An arm path the motion layer planned",
            ("skill", "status"),
            skill=_STRING,
            subgoal_index={"type": ["integer", "null"]},
            joint_names=_STR_LIST,
            waypoints={"type": "array", "items": {"type": "array", "items": _NUMBER}},
            planning_time_s=_OPT_NUMBER,
            planner={"type": "string", "description": "e.g. 'RRTConnect'"},
            status={"type": "string", "description": "planner status, e.g. 'exact_solution', 'timeout'"},
        ),
        _spec(
            "/control/telemetry",
            "humanoid.ControlTelemetry",
            "A decimated sample of the control loop (control/loop.py)",
            (),
            label={"type": "string", "description": "the motion request this sample belongs to"},
            arm_tracking_error_max={"type": "number", "description": "max |q_ref - q| over arm joints, rad"},
            arm_tracking_error_rms={"type": "number", "description": "RMS arm tracking error, rad"},
            torque_abs_max={"type": "number", "description": "max |tau| over joints, N m"},
            base_height={"type": "number", "description": "m"},
            base_linvel={"type": "array", "items": _NUMBER, "description": "[vx, vy, vz], m/s"},
            base_pos={"type": "array", "items": _NUMBER, "description": "[x, y, z] of the pelvis, m (world)"},
            policy_latency_us={"type": "number", "description": "last policy inference, microseconds"},
            watchdog={"type": "boolean", "description": "true while the command watchdog holds the robot"},
        ),
        _spec(
            "/safety/event",
            "humanoid.SafetyEvent",
            "A safety monitor acting: clamp, fall, watchdog, e-stop (control/safety.py)",
            ("kind",),
            kind={
                "type": "string",
                "description": "e.g. 'joint_limit', 'torque_limit', 'fall', 'watchdog', 'estop'",
            },
            detail={"type": "string", "description": "what happened, in words"},
            severity={"type": "string", "description": "optional: 'info', 'warning' or 'stop'"},
            details=_OBJECT,
        ),
        _spec(
            "/timing",
            "humanoid.Timing",
            "A named duration (planning, IK, an LLM call, a step)",
            ("name", "duration_s"),
            name=_STRING,
            duration_s=_NUMBER,
            details=_OBJECT,
        ),
        _FOXGLOVE_LOG,
        _spec(
            "/scene/map",
            "humanoid.SceneMap",
            "The scene from above, once at the start: objects, place regions, the robot's start",
            ("objects", "places"),
            frame={"type": "string", "description": "frame of every position, 'world'"},
            objects={"type": "array", "items": _MAP_ITEM, "description": "from the first WorldObservation"},
            places={"type": "array", "items": _MAP_ITEM, "description": "place regions (the scene's place_ sites)"},
            robot_start={"type": "array", "items": _NUMBER, "description": "[x, y, z] of the pelvis, m"},
            planned_base_path={
                "type": "array",
                "items": {"type": "array", "items": _NUMBER},
                "description": "[[x, y], ...] planned before the run (empty; walks planned during it are /motion/plan kind base_path)",
            },
        ),
        _FOXGLOVE_SCENE_UPDATE,
        _spec(
            "/run/end",
            "humanoid.RunEnd",
            "How the run ended",
            ("outcome", "exit_code"),
            outcome={"type": "string", "description": "'succeeded', 'failed', 'error', 'interrupted', ..."},
            exit_code=_INT,
            reason=_STRING,
            wall_time_s={"type": "number", "description": "wall seconds since the trace was opened"},
        ),
    )
}


def extra_channel(topic: str) -> ChannelSpec:
    """A channel for a topic outside the table: kept rather than lost, with a permissive schema."""
    return ChannelSpec(
        topic, "humanoid.Extra", 1, f"An event on {topic}, outside the documented channels", {}
    )
