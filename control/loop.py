"""The control loop: follow the motion layer's upper-body references while the legs balance.

One `MotionRequest` in, one `MotionResult` out. Each control period the loop interpolates
the requested arm and gripper references, asks the leg controller (the frozen RL policy) for
leg and waist targets, passes everything through the safety monitor and sends one
`JointCommand` to the robot. It never plans and never adapts: see DESIGN.md, "frozen".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

import numpy as np

from bridge.messages import JointCommand, MotionRequest, MotionResult, RobotState, WorldObservation
from control.gait import clip_command, wants_motion
from control.safety import SafetyEvent, SafetyMonitor, SafetyVerdict
from humanoid.robot_spec import RobotSpec

log = logging.getLogger("control")

COMMAND_HOLD_S = 0.25  # a base command outlives its request this long, then decays to "stand"
TELEMETRY_EVERY = 5  # control periods between telemetry samples (10 Hz at 50 Hz control)
MAX_REQUEST_S = 120.0  # longest motion one request may ask for (sim time); skills send seconds


class RobotLink(Protocol):
    """What the loop needs from a robot: the simulator in-process, over ZeroMQ, or hardware."""

    def step(self, cmd: JointCommand | None) -> RobotState: ...
    def state(self) -> RobotState: ...
    def observe(self) -> WorldObservation: ...


class LegController(Protocol):
    """Leg and waist targets for the current state, upper-body references and base command.

    `command` is the base velocity (vx, vy, wz) in the heading frame, already clipped to the
    trained ranges; controllers that cannot walk ignore it (the loop refuses a moving
    request for them, see `ControlLoop._request_problem`).
    """

    name: str

    def targets(self, state: RobotState, upper_ref: np.ndarray, command: np.ndarray | None = None) -> np.ndarray: ...


class PolicyLegController:
    """The frozen RL policy (ONNX, hash-verified) as the leg controller."""

    def __init__(self, spec: RobotSpec, policy_name: str = "stand") -> None:
        from control.observation import PolicyIO
        from control.policy import FrozenPolicy

        self.io = PolicyIO(spec)
        self.policy = FrozenPolicy(spec.policy(policy_name), self.io)
        self.name = f"policy:{policy_name}"
        self.last_action = np.zeros(self.io.action_dim, dtype=np.float32)
        self.last_latency_s = 0.0

    def targets(self, state: RobotState, upper_ref: np.ndarray, command: np.ndarray | None = None) -> np.ndarray:
        t0 = time.perf_counter()
        obs = self.io.build_observation(state, upper_ref, self.last_action)
        self.last_action = self.policy.act(obs)
        self.last_latency_s = time.perf_counter() - t0
        return self.io.targets_from_action(self.last_action, upper_ref)


class HoldController:
    """Legs held at the default pose by PD alone: the baseline the policy is measured against.

    It stands still on flat ground but falls under pushes; the product never runs it as the
    leg controller (`humanoid run` requires the trained policy), only tests and benchmarks.
    """

    name = "hold"

    def __init__(self, spec: RobotSpec) -> None:
        self.legs = spec.indices(("legs", "waist"))
        self.default_q = spec.default_q
        self.last_latency_s = 0.0

    def targets(self, state: RobotState, upper_ref: np.ndarray, command: np.ndarray | None = None) -> np.ndarray:
        q = upper_ref.copy()
        q[self.legs] = self.default_q[self.legs]
        return q


class ControlLoop:
    def __init__(
        self, spec: RobotSpec, robot: RobotLink, legs: LegController, estop_pending: Callable[[], bool] | None = None
    ) -> None:
        self.spec = spec
        self.robot = robot
        self.legs = legs
        self.safety = SafetyMonitor(spec)
        self.arm_idx = spec.indices(("left_arm", "right_arm"))
        self.grip_idx = {side: spec.indices(spec.end_effectors[side].gripper) for side in ("left", "right")}
        self.upper_ref = spec.default_q.copy()
        self.dt = 1.0 / spec.control_rate_hz
        self._seq = 0
        self.state = robot.state()
        self.fallen = False
        self.estopped = False
        # Polled every period, so an e-stop acts mid-request, not when the request ends.
        self.estop_pending = estop_pending or (lambda: False)
        self.last_command: JointCommand | None = None
        # base velocity command (vx, vy, wz), clipped; it expires shortly after its request so a
        # realtime loop ticking between requests never keeps walking on an old order
        self.base_command = np.zeros(3)
        self._base_command_until = -np.inf
        self.can_walk = hasattr(legs, "walk")

    def _gripper_q(self, opening: float) -> float:
        s = self.spec
        return s.gripper_closed + float(np.clip(opening, 0.0, 1.0)) * (s.gripper_open - s.gripper_closed)

    def _reference_at(self, req: MotionRequest, t: float) -> None:
        """Set `upper_ref` to the request's references at `t` s (linear between rows)."""
        if len(req.times) == 0:
            return
        k = int(np.searchsorted(req.times, t, side="right"))
        if k <= 0:
            arm, grip = req.arm_q[0], req.gripper[0]
        elif k >= len(req.times):
            arm, grip = req.arm_q[-1], req.gripper[-1]
        else:
            t0, t1 = req.times[k - 1], req.times[k]
            a = (t - t0) / max(t1 - t0, 1e-9)
            arm = (1 - a) * req.arm_q[k - 1] + a * req.arm_q[k]
            grip = (1 - a) * req.gripper[k - 1] + a * req.gripper[k]
        self.upper_ref[self.arm_idx] = arm
        for i, side in enumerate(("left", "right")):
            self.upper_ref[self.grip_idx[side]] = self._gripper_q(grip[i])

    def tick(self) -> list[dict]:
        """One control period with the current references; returns safety events."""
        if self.state.sim_time > self._base_command_until:
            self.base_command = np.zeros(3)
        q_target = self.legs.targets(self.state, self.upper_ref, self.base_command)
        verdict = self.safety.check(self.state, q_target)
        self.fallen = self.fallen or verdict.fallen
        if not self.estopped and self.estop_pending():
            self.estopped = True
            verdict = SafetyVerdict(verdict.q_target, (*verdict.events, SafetyEvent("estop", self.state.sim_time, "e-stop pressed")), True, verdict.fallen)
        # A fallen or e-stopped robot is damped, never driven: stiff PD on a body lying on the
        # floor only thrashes it. It stays damped until a person resets it.
        kp = np.zeros_like(self.spec.kp) if (self.fallen or self.estopped) else self.spec.kp
        self._seq += 1
        cmd = JointCommand(seq=self._seq, stamp=self.state.sim_time, q_target=verdict.q_target, kp=kp, kd=self.spec.kd)
        self.last_command = cmd
        self.state = self.robot.step(cmd)
        # Clamping the arm references near a joint limit is routine; only report what matters.
        return [e.to_dict() for e in verdict.events if e.kind != "target_clamped"]

    def execute(self, req: MotionRequest) -> MotionResult:
        if self.fallen:
            return self._result(req, "fallen", "the robot has fallen; it needs a reset before it can move", [], [])
        if self.estopped:
            return self._result(req, "safety_stop", "e-stop is engaged; restart the control process to release it", [], [])
        problem = self._request_problem(req)
        if problem:
            return self._result(req, "rejected", problem, [], [])
        t_start = self.state.sim_time
        duration = (float(req.times[-1]) if len(req.times) else 0.0) + req.settle_s
        telemetry, safety_events = [], []
        self.base_command, clipped = clip_command(req.base_velocity)
        self._base_command_until = t_start + duration + COMMAND_HOLD_S
        if clipped:
            # never passed through: the policy was not trained outside these ranges
            log.warning("request %d: base velocity %s clipped to %s", req.seq, req.base_velocity, self.base_command)
            safety_events.append(
                SafetyEvent(
                    "command_clipped", t_start,
                    f"base velocity {np.round(req.base_velocity, 3).tolist()} clipped to the walking policy's "
                    f"trained ranges: {np.round(self.base_command, 3).tolist()}",
                ).to_dict()
            )
        n = 0
        while self.state.sim_time - t_start < duration - 1e-9:
            self._reference_at(req, self.state.sim_time - t_start + self.dt)
            events = self.tick()
            n += 1
            if n % TELEMETRY_EVERY == 0:
                telemetry.append(self._telemetry_sample())
            if events:
                safety_events += events
                if any(e["kind"] == "fall" for e in events):
                    self.fallen = True
                    return self._result(req, "fallen", "fall detected: " + events[-1]["detail"], telemetry, safety_events)
                if self.estopped:
                    return self._result(req, "safety_stop", "e-stop pressed during the motion", telemetry, safety_events)
        return self._result(req, "ok", "", telemetry, safety_events)

    def _request_problem(self, req: MotionRequest) -> str:
        """Why a request cannot be followed as sent (empty when it can)."""
        k = len(req.times)
        if req.times.ndim != 1:
            return f"times must be a 1-D array, got shape {req.times.shape}"
        if k > 1 and np.any(np.diff(req.times) < 0):
            return "times must not decrease"
        if req.arm_q.ndim != 2 or req.arm_q.shape != (k, len(self.arm_idx)):
            return f"arm_q must be (len(times), {len(self.arm_idx)}) = ({k}, {len(self.arm_idx)}), got {req.arm_q.shape}"
        if req.gripper.shape != (k, 2):
            return f"gripper must be (len(times), 2) = ({k}, 2), got {req.gripper.shape}"
        duration = (float(req.times[-1]) if k else 0.0) + req.settle_s
        if np.shape(req.base_velocity) != (3,) or not np.all(np.isfinite(req.base_velocity)):
            return f"base_velocity must be 3 finite numbers (vx, vy, wz), got {req.base_velocity!r}"
        if not self.can_walk and bool(wants_motion(req.base_velocity)):
            return (
                f"base velocity {np.round(req.base_velocity, 3).tolist()} asked of a controller that cannot walk "
                f"({self.legs.name}); the robot needs a walking policy (policies.walk in its manifest, trained "
                "with `python -m control.train.train_walk`)"
            )
        if not 0.0 <= req.settle_s or duration > MAX_REQUEST_S:
            return f"a request may last 0..{MAX_REQUEST_S:.0f} s of sim time, this one {duration:.1f} s (settle {req.settle_s:.1f} s)"
        return ""

    def _telemetry_sample(self) -> dict:
        s = self.state
        err = np.abs(self.upper_ref[self.arm_idx] - s.q[self.arm_idx])
        return {
            "sim_time": s.sim_time,
            "arm_tracking_error_max": float(err.max()),
            "arm_tracking_error_rms": float(np.sqrt(np.mean(err**2))),
            "torque_abs_max": float(np.abs(s.tau).max()),
            "base_height": float(s.base_pos[2]),
            "base_pos": s.base_pos.tolist(),  # the executed base path on the trace viewer's map
            "base_linvel": s.base_linvel.tolist(),  # base frame
            "base_vel_cmd": self.base_command.tolist(),  # heading frame (vx, vy, wz)
            "locomotion": getattr(self.legs, "mode", "stand"),
            "policy_latency_us": self.legs.last_latency_s * 1e6,
            "watchdog": s.watchdog,
        }

    def _result(self, req: MotionRequest, status: str, detail: str, telemetry: list, events: list) -> MotionResult:
        return MotionResult(
            seq=req.seq,
            status=status,
            detail=detail,
            state=self.state,
            world=self.robot.observe(),
            telemetry=telemetry,
            safety_events=events,
        )
