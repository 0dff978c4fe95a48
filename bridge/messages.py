"""Versioned msgpack messages that cross process boundaries.

Every message is a dataclass with a `KIND` tag and a `version`. Arrays travel as float64
bytes (fast and exact). `decode` validates kind, version, field types, array lengths and
finiteness, and raises `MessageError` with what was wrong: loops catch it, log it and drop
the message instead of crashing (DESIGN.md: a malformed message never crashes a loop).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import msgpack
import numpy as np

WIRE_VERSION = 1


class MessageError(ValueError):
    """A message that could not be decoded or failed validation."""


def _arr(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


@dataclass
class RobotState:
    """What the robot (or the simulator) reports each control period."""

    KIND: ClassVar[str] = "robot_state"
    seq: int
    sim_time: float
    q: np.ndarray  # actuated joint positions, in the robot spec's joint order
    qd: np.ndarray  # actuated joint velocities
    tau: np.ndarray  # applied joint torques
    base_pos: np.ndarray  # (3,) world position of the pelvis (sim; a real robot estimates it)
    base_quat: np.ndarray  # (4,) w, x, y, z
    base_linvel: np.ndarray  # (3,) in the base frame
    base_angvel: np.ndarray  # (3,) gyro, in the base frame
    foot_contact: np.ndarray  # (2,) left, right: 1.0 if the foot touches the floor
    wall_time: float = 0.0
    watchdog: str = "ok"  # ok | hold | damp: what the robot-side watchdog is doing
    version: int = WIRE_VERSION


@dataclass
class JointCommand:
    """Joint targets and gains for every actuated joint; the robot runs PD on them."""

    KIND: ClassVar[str] = "joint_command"
    seq: int
    stamp: float  # sim time of the state this command answers
    q_target: np.ndarray
    kp: np.ndarray
    kd: np.ndarray
    version: int = WIRE_VERSION


@dataclass
class ObjectObservation:
    """One object as perception would report it."""

    id: str
    pos: list[float]
    quat: list[float]
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class WorldObservation:
    """The perception stand-in's report: object poses and appliance states, fed from the sim."""

    KIND: ClassVar[str] = "world_observation"
    seq: int
    sim_time: float
    objects: list[ObjectObservation]
    version: int = WIRE_VERSION

    def by_id(self) -> dict[str, ObjectObservation]:
        return {o.id: o for o in self.objects}


@dataclass
class StepRequest:
    """Lockstep: apply this command for one control period, then answer with the new state."""

    KIND: ClassVar[str] = "step_request"
    command: JointCommand
    observe_world: bool = False
    version: int = WIRE_VERSION


@dataclass
class StepReply:
    KIND: ClassVar[str] = "step_reply"
    state: RobotState
    world: WorldObservation | None = None
    version: int = WIRE_VERSION


@dataclass
class MotionRequest:
    """From the motion layer to the control loop: follow these upper-body references.

    `times` are seconds from the start of the request; `arm_q` rows are arm joint references
    (spec's arm order), `gripper` rows are openings in [0, 1] for (left, right). The control
    loop interpolates between rows, holds the last row for `settle_s`, and answers with a
    `MotionResult`. A request with no rows just holds the current references for `settle_s`.
    """

    KIND: ClassVar[str] = "motion_request"
    seq: int
    times: np.ndarray
    arm_q: np.ndarray  # (k, n_arm)
    gripper: np.ndarray  # (k, 2)
    settle_s: float = 0.0
    base_velocity: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(3))
    label: str = ""
    version: int = WIRE_VERSION


@dataclass
class MotionResult:
    """From the control loop back to the motion layer after a `MotionRequest`."""

    KIND: ClassVar[str] = "motion_result"
    seq: int
    status: str  # ok | fallen | safety_stop | bridge_down
    detail: str
    state: RobotState | None
    world: WorldObservation | None
    telemetry: list[dict[str, Any]] = field(default_factory=list)
    safety_events: list[dict[str, Any]] = field(default_factory=list)
    version: int = WIRE_VERSION


@dataclass
class Request:
    """A small operation on a server: `observe`, `reset`, `perturb`, `ping`, `shutdown`."""

    KIND: ClassVar[str] = "request"
    op: str
    args: dict[str, Any] = field(default_factory=dict)
    version: int = WIRE_VERSION


@dataclass
class Reply:
    """Answer to a `Request` (or to a message a server could not use): ok, or an error to show a person."""

    KIND: ClassVar[str] = "reply"
    ok: bool
    error: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    version: int = WIRE_VERSION


_MESSAGES: dict[str, type] = {
    c.KIND: c
    for c in (RobotState, JointCommand, WorldObservation, StepRequest, StepReply, MotionRequest, MotionResult, Request, Reply)
}


def _to_wire(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"__nd__": list(value.shape), "b": np.ascontiguousarray(value, dtype=np.float64).tobytes()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: _to_wire(getattr(value, f.name)) for f in dataclasses.fields(value)}
        kind = getattr(type(value), "KIND", None)
        if kind:
            out["kind"] = kind
        return out
    if isinstance(value, list | tuple):
        return [_to_wire(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_wire(v) for k, v in value.items()}
    if isinstance(value, np.floating | np.integer | np.bool_):
        return value.item()
    return value


def encode(message: Any) -> bytes:
    """Serialise a message dataclass to msgpack bytes."""
    return msgpack.packb(_to_wire(message), use_bin_type=True)


def _from_wire(cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise MessageError(f"{where}: expected a map, got {type(raw).__name__}")
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in raw:
            has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
            if has_default:
                continue
            raise MessageError(f"{where}: missing field '{f.name}'")
        kwargs[f.name] = _field_from_wire(f, raw[f.name], f"{where}.{f.name}")
    return cls(**kwargs)


def _field_from_wire(f: dataclasses.Field, value: Any, where: str) -> Any:
    ftype = str(f.type)
    if ftype == "np.ndarray":
        if not (isinstance(value, dict) and "__nd__" in value and isinstance(value.get("b"), bytes)):
            raise MessageError(f"{where}: expected an array")
        dims = value["__nd__"]
        if not (isinstance(dims, list) and len(dims) <= 4 and all(isinstance(d, int) and d >= 0 for d in dims)):
            raise MessageError(f"{where}: array shape must be a list of non-negative integers, got {dims!r}")
        shape = tuple(dims)
        if len(value["b"]) % 8:
            raise MessageError(f"{where}: array payload of {len(value['b'])} bytes is not float64 data")
        arr = np.frombuffer(value["b"], dtype=np.float64)
        if arr.size != math.prod(shape):
            raise MessageError(f"{where}: array of {arr.size} values does not fit shape {shape}")
        arr = arr.reshape(shape)
        if not np.all(np.isfinite(arr)):
            raise MessageError(f"{where}: contains NaN or infinity")
        return arr.copy()
    for name, cls in (("RobotState", RobotState), ("JointCommand", JointCommand), ("WorldObservation", WorldObservation)):
        if ftype.startswith(name):
            return None if value is None else _from_wire(cls, value, where)
    if ftype == "list[ObjectObservation]":
        if not isinstance(value, list):
            raise MessageError(f"{where}: expected a list")
        return [_from_wire(ObjectObservation, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if ftype in ("int",) and not isinstance(value, int):
        raise MessageError(f"{where}: expected an integer, got {value!r}")
    if ftype == "float":
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise MessageError(f"{where}: expected a finite number, got {value!r}")
        return float(value)
    if ftype == "str" and not isinstance(value, str):
        raise MessageError(f"{where}: expected a string, got {value!r}")
    if ftype == "bool" and not isinstance(value, bool):
        raise MessageError(f"{where}: expected true or false, got {value!r}")
    if ftype.startswith("dict[") and not isinstance(value, dict):
        raise MessageError(f"{where}: expected a map, got {type(value).__name__}")
    if ftype.startswith("list[dict") and not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
        raise MessageError(f"{where}: expected a list of maps")
    return value


def decode(payload: bytes, expect: type | None = None) -> Any:
    """Parse and validate msgpack bytes; raise `MessageError` saying what is wrong."""
    try:
        raw = msgpack.unpackb(payload, raw=False, strict_map_key=False)
    except Exception as exc:  # msgpack raises several types for garbage input
        raise MessageError(f"not a msgpack message ({type(exc).__name__}: {exc})") from None
    if not isinstance(raw, dict) or "kind" not in raw:
        raise MessageError("message has no 'kind' field")
    kind = raw["kind"]
    cls = _MESSAGES.get(kind)
    if cls is None:
        raise MessageError(f"unknown message kind {kind!r}; known: {sorted(_MESSAGES)}")
    if expect is not None and cls is not expect:
        raise MessageError(f"expected a {expect.KIND} message, got {kind!r}")
    version = raw.get("version")
    if version != WIRE_VERSION:
        raise MessageError(f"{kind}: wire version {version!r} not supported (this build speaks {WIRE_VERSION})")
    try:
        return _from_wire(cls, raw, kind)
    except MessageError:
        raise
    except (TypeError, ValueError, KeyError) as exc:  # whatever else a hostile payload trips over
        raise MessageError(f"{kind}: malformed ({type(exc).__name__}: {exc})") from None


def check_lengths(message: RobotState | JointCommand, n_joints: int) -> None:
    """Raise `MessageError` if joint arrays do not match the robot's actuated joint count."""
    names = ("q", "qd", "tau") if isinstance(message, RobotState) else ("q_target", "kp", "kd")
    for name in names:
        arr = getattr(message, name)
        if arr.shape != (n_joints,):
            raise MessageError(f"{message.KIND}.{name}: expected {n_joints} joints, got shape {arr.shape}")
