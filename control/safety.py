"""Safety below autonomy: joint-limit clamps, non-finite guards and fall detection.

Pure logic, no I/O: the control loop feeds every state and every joint target through a
`SafetyMonitor` and logs the typed `SafetyEvent`s it returns. Training uses the same fall
thresholds (`FALL_TILT_RAD`, `FALL_HEIGHT_M`) so "fallen" means one thing everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bridge.messages import RobotState
from control.observation import projected_gravity, tilt_from_gravity
from humanoid.robot_spec import RobotSpec

FALL_TILT_RAD = 0.8  # base z axis this far from vertical: the robot is going down
FALL_HEIGHT_M = 0.45  # pelvis below this (standing: 0.74 m): the robot is down
LIMIT_MARGIN = 0.02  # keep targets this far (rad or m) inside the joint range


@dataclass(frozen=True)
class SafetyEvent:
    kind: str  # non_finite_state | non_finite_target | target_clamped | fall
    sim_time: float
    detail: str

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "sim_time": self.sim_time, "detail": self.detail}


@dataclass(frozen=True)
class SafetyVerdict:
    """What to send this period and why."""

    q_target: np.ndarray  # safe joint targets (clamped; the held target when `hold`)
    events: tuple[SafetyEvent, ...]
    hold: bool  # a non-finite state or target: the last safe target is held
    fallen: bool


def base_tilt(state: RobotState) -> float:
    """Angle (rad) between the base's z axis and world up, from the IMU orientation."""
    return float(tilt_from_gravity(projected_gravity(np.asarray(state.base_quat))))


def is_fallen(tilt: np.ndarray | float, height: np.ndarray | float) -> np.ndarray:
    """Fall test shared by the runtime and training; works on scalars and arrays."""
    return (np.asarray(tilt) > FALL_TILT_RAD) | (np.asarray(height) < FALL_HEIGHT_M)


class SafetyMonitor:
    """Clamp targets into joint limits, hold on non-finite data, detect falls."""

    def __init__(
        self,
        spec: RobotSpec,
        limit_margin: float = LIMIT_MARGIN,
        max_tilt: float = FALL_TILT_RAD,
        min_height: float = FALL_HEIGHT_M,
    ) -> None:
        self.spec = spec
        margin = np.full(spec.n_joints, limit_margin)
        # finger targets sit on the limit on purpose: "closed" squeezes the object held
        grippers = tuple(ee.gripper for ee in spec.end_effectors.values())
        margin[spec.indices(grippers)] = 0.0
        self.lower = spec.q_lower + margin
        self.upper = spec.q_upper - margin
        self.max_tilt = max_tilt
        self.min_height = min_height
        self.last_safe_target = np.clip(np.asarray(spec.default_q, dtype=np.float64), self.lower, self.upper)

    def clamp_targets(self, q_target: np.ndarray, sim_time: float = 0.0) -> tuple[np.ndarray, list[SafetyEvent]]:
        """Targets clipped into the joint ranges (less the margin), with an event naming clamped joints."""
        q = np.asarray(q_target, dtype=np.float64)
        clamped = np.clip(q, self.lower, self.upper)
        events = []
        moved = np.flatnonzero(np.abs(clamped - q) > 1e-9)
        if moved.size:
            names = ", ".join(f"{self.spec.joint_names[i]} {q[i]:+.3f}->{clamped[i]:+.3f}" for i in moved)
            events.append(SafetyEvent("target_clamped", sim_time, names))
        return clamped, events

    def check_state(self, state: RobotState) -> list[SafetyEvent]:
        """Non-finite readings and falls in one state."""
        bad = [
            name
            for name in ("q", "qd", "base_pos", "base_quat", "base_angvel")
            if not np.all(np.isfinite(np.asarray(getattr(state, name), dtype=np.float64)))
        ]
        if bad:
            return [SafetyEvent("non_finite_state", state.sim_time, f"NaN or infinity in state fields {bad}")]
        tilt = base_tilt(state)
        height = float(state.base_pos[2])
        if tilt > self.max_tilt or height < self.min_height:
            detail = (
                f"tilt {tilt:.2f} rad (limit {self.max_tilt:.2f}), "
                f"base height {height:.2f} m (limit {self.min_height:.2f})"
            )
            return [SafetyEvent("fall", state.sim_time, detail)]
        return []

    def check(self, state: RobotState, q_target: np.ndarray) -> SafetyVerdict:
        """One control period: check the state, then make `q_target` safe to send."""
        events = self.check_state(state)
        q = np.asarray(q_target, dtype=np.float64)
        hold = any(e.kind == "non_finite_state" for e in events)
        if not np.all(np.isfinite(q)):
            bad = [self.spec.joint_names[i] for i in np.flatnonzero(~np.isfinite(q))]
            events.append(SafetyEvent("non_finite_target", state.sim_time, f"NaN or infinity in targets for {bad}"))
            hold = True
        if hold:
            return SafetyVerdict(self.last_safe_target.copy(), tuple(events), True, False)
        safe, clamp_events = self.clamp_targets(q, state.sim_time)
        events.extend(clamp_events)
        self.last_safe_target = safe.copy()
        fallen = any(e.kind == "fall" for e in events)
        return SafetyVerdict(safe, tuple(events), False, fallen)
