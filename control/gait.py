"""The walking policy's gait clock, command limits and stepping reference: shared by training and runtime.

The walking policy does not invent rhythm from scratch: a phase clock (period `PERIOD_S`)
drives a simple scripted stepping reference (swing leg: hip flexes, knee bends twice as
much, ankle keeps the sole parallel to the floor; the legs swing forward/back, out/in and
twist by the step the command asks for: vx, vy, wz times half a period), and the policy's
action is a learned correction on top of it. (A reference of stepping in place alone taught
forward walking in 30 CPU-minutes but never turning or side-stepping: see the model card.) That is what makes walking learnable in ~10M CPU steps instead of
the 150M+ a from-scratch GPU recipe spends: the policy only has to learn balance, propulsion
and turning. The reference is scaled by a gait amplitude that ramps (never jumps) between 0
(stand still: no stepping reference at all) and 1 (stepping), so a change of mode never
moves a joint target abruptly.

`GaitClock` is the one implementation of the clock and the ramp; the training env keeps a
batch of them as arrays through the same functions (`advance_gait`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PERIOD_S = 0.7  # one full stride (left + right swing)
SWING_HIP_RAD = 0.25  # hip flexion at mid-swing; knee bends 2x, ankle compensates
RAMP_S = 0.4  # gait amplitude 0 -> 1 (or back) takes this long

# The walking policy's trained command ranges: (vx, vy, wz) lower and upper, heading frame.
COMMAND_LOW = np.array([-0.3, -0.3, -0.8])
COMMAND_HIGH = np.array([0.6, 0.3, 0.8])
# How fast the command the reference and the policy follow may change (per second): a new
# order is ramped in, so a changed command never jumps a joint target (see `ramp_command`).
COMMAND_ACCEL = np.array([1.0, 1.0, 2.0])
# Below these magnitudes a command means "stand still" (|v| in m/s, |wz| in rad/s).
DEADBAND_V = 0.05
DEADBAND_WZ = 0.1


def clip_command(cmd: np.ndarray) -> tuple[np.ndarray, bool]:
    """The command clipped to the trained ranges, and whether anything was clipped."""
    c = np.asarray(cmd, dtype=np.float64)
    out = np.clip(c, COMMAND_LOW, COMMAND_HIGH)
    return out, bool(np.any(np.abs(out - c) > 1e-12))


def wants_motion(cmd: np.ndarray) -> np.ndarray:
    """True where a (batch of) command(s) asks the robot to move rather than stand."""
    c = np.asarray(cmd, dtype=np.float64)
    return (np.linalg.norm(c[..., :2], axis=-1) > DEADBAND_V) | (np.abs(c[..., 2]) > DEADBAND_WZ)


def keeps_stepping(target: np.ndarray, ramped: np.ndarray) -> np.ndarray:
    """True while the reference should step: the order asks to move, or the ramped command has
    not yet come down to a stand.

    Stepping stops only once the ramped command is inside the deadband. Ramping the stepping out
    as soon as the order was zero (up to walk_v7) froze the legs 0.4 s into a 0.55 s
    deceleration from a fast walk: the robot slid on, still at 0.3-0.6 m/s, onto feet that could
    no longer step, and the standing policy was handed a moving robot (docs/walking.md, "Hand-over").
    """
    return wants_motion(target) | wants_motion(ramped)


def ramp_command(current: np.ndarray, target: np.ndarray, dt: float) -> np.ndarray:
    """One control period of the command ramp: `current` moves toward `target` at COMMAND_ACCEL."""
    step = COMMAND_ACCEL * dt
    return current + np.clip(np.asarray(target) - current, -step, step)


def advance_gait(phase: np.ndarray, amplitude: np.ndarray, moving: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """One control period of the clock: the phase advances; the amplitude ramps toward 0 or 1.

    At amplitude 0 the phase is held at 0, so every walk starts from the same point of the
    stride (left leg swings first) and the reference is continuous at the start.
    """
    target = moving.astype(np.float64)
    step = dt / RAMP_S
    amplitude = np.clip(amplitude + np.clip(target - amplitude, -step, step), 0.0, 1.0)
    phase = np.where(amplitude > 0.0, (phase + dt / PERIOD_S) % 1.0, 0.0)
    return phase, amplitude


def gait_observation(phase: np.ndarray, amplitude: np.ndarray) -> np.ndarray:
    """(..., 3): sin and cos of the phase (scaled by the amplitude), and the amplitude."""
    ang = 2.0 * np.pi * np.asarray(phase)
    a = np.asarray(amplitude)
    return np.stack([np.sin(ang) * a, np.cos(ang) * a, a], axis=-1)


LEG_LENGTH_M = 0.64  # hip to ankle of the reference humanoid (thigh + shin)


def leg_reference(phase: np.ndarray, amplitude: np.ndarray, command: np.ndarray | None = None) -> np.ndarray:
    """(..., 12) stepping reference offsets for the legs, in the manifest's `legs` order.

    Order per leg: hip_yaw, hip_roll, hip_pitch, knee, ankle_pitch, ankle_roll (left, then
    right). Hip flexion is negative pitch and knee flexion positive on the reference humanoid;
    ankle = -(hip + knee) keeps the sole flat, so the swing foot lifts straight up (~5 cm).
    The left leg swings while sin(2 pi phase) > 0. With a `command` (vx, vy, wz) each leg also
    sweeps, swing to stance, through the step the command needs in half a period: hip pitch
    for vx, hip roll for vy (ankles keep the sole level) and hip yaw for wz; at the end of its
    swing a leg is ahead / out / twisted by half that step, so the stance leg pushes the body on.
    """
    ang = 2.0 * np.pi * np.asarray(phase)
    s, c = np.sin(ang), np.cos(ang)
    amp = np.asarray(amplitude)
    a = amp * SWING_HIP_RAD
    ref = np.zeros((*np.shape(s), 12))
    for base, lift in ((0, np.maximum(s, 0.0)), (6, np.maximum(-s, 0.0))):
        ref[..., base + 2] = -a * lift
        ref[..., base + 3] = 2.0 * a * lift
        ref[..., base + 4] = -a * lift
    if command is not None:
        cmd = np.asarray(command, dtype=np.float64)
        half = PERIOD_S / 2.0
        # half a step each way of the sweep, as hip angles (small-angle: step / leg length)
        pitch = amp * cmd[..., 0] * half / (2.0 * LEG_LENGTH_M)
        roll = amp * cmd[..., 1] * half / (2.0 * LEG_LENGTH_M)
        yaw = amp * cmd[..., 2] * half / 2.0
        for base, sign in ((0, -1.0), (6, 1.0)):  # left ends its swing at phase 0.5, right at 0
            sweep = sign * c  # -1 at the start of this leg's swing, +1 at its end
            ref[..., base + 0] += yaw * sweep
            ref[..., base + 1] += roll * sweep
            ref[..., base + 2] += -pitch * sweep  # forward = hip flexion = negative pitch
            ref[..., base + 4] += pitch * sweep
            ref[..., base + 5] += -roll * sweep
    return ref


def expected_stance(phase: np.ndarray, amplitude: np.ndarray) -> np.ndarray:
    """(..., 2) True where the reference has the (left, right) foot on the ground."""
    s = np.sin(2.0 * np.pi * np.asarray(phase))
    stepping = np.asarray(amplitude) > 0.5
    left = ~stepping | (s < 0.1)
    right = ~stepping | (s > -0.1)
    return np.stack([left, right], axis=-1)


@dataclass
class GaitClock:
    """The runtime's clock: one robot, advanced once per control period."""

    dt: float
    phase: float = 0.0
    amplitude: float = 0.0
    command: np.ndarray = field(default_factory=lambda: np.zeros(3))  # the ramped command

    def advance(self, target: np.ndarray) -> None:
        """One period toward the clipped `target` command: ramp the command, the phase, the amplitude."""
        self.command = ramp_command(self.command, target, self.dt)
        stepping = keeps_stepping(target, self.command)
        p, a = advance_gait(np.array(self.phase), np.array(self.amplitude), stepping, self.dt)
        self.phase, self.amplitude = float(p), float(a)

    def observation(self) -> np.ndarray:
        return gait_observation(np.array(self.phase), np.array(self.amplitude))

    def reference(self) -> np.ndarray:
        return leg_reference(np.array(self.phase), np.array(self.amplitude), self.command)

    def reset(self) -> None:
        self.phase, self.amplitude = 0.0, 0.0
        self.command = np.zeros(3)
