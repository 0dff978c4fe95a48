"""Vectorised walking training environment: velocity commands in, leg joint targets out.

Isaac-Lab style: rewards are named, parameterised terms listed in `WalkEnvConfig`; command
sampling, pushes, arm motion and payload are events with their own parameters. What makes it
affordable on two CPU cores:

- physics runs in MuJoCo's C `rollout` across threads, one call per control period for all
  robots (10 physics steps each), instead of a Python loop over robots and substeps. To do so
  the joint PD the simulator computes in Python (tau = kp (q* - q) - kd qd, clamped) is written
  into the training model's actuators (gain kp, bias -kp q - kd qd, force range = torque limit);
- everything the rewards read comes from sensors returned by the rollout (feet, IMU, torques);
- legs-only actions on top of the gait reference (`control.gait`), a curriculum on command
  range, pushes and arm motion (`difficulty`), asymmetric actor-critic.

Observations and joint targets come from `control.observation.PolicyIO(kind="walk")` and falls
from `control.safety`, exactly as the runtime computes them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import mujoco
import numpy as np
from mujoco import rollout

from control import gait
from control.observation import PolicyIO, projected_gravity, tilt_from_gravity
from control.safety import SafetyMonitor, is_fallen
from control.train.env import (
    RewardTerm,
    TrainingRobot,
    arm_reference_range,
    build_training_model,
    place_robot,
    sample_action_delay,
)
from humanoid.robot_spec import RobotSpec

STATE_SPEC = mujoco.mjtState.mjSTATE_FULLPHYSICS
CONTROL_SPEC = mujoco.mjtState.mjSTATE_CTRL | mujoco.mjtState.mjSTATE_XFRC_APPLIED
CONTACT_HEIGHT_M = 0.02  # a sole whose centre is this close to the floor is in contact
PRIV_DIM = 15  # the critic's privileged inputs (`WalkEnv._obs`)


@dataclass
class WalkView:
    """Batched quantities reward terms read (B = number of envs)."""

    command: np.ndarray  # (B, 3) vx, vy, wz commanded
    base_vel: np.ndarray  # (B, 3) base linear velocity, base frame
    gyro: np.ndarray  # (B, 3)
    gravity: np.ndarray  # (B, 3)
    tilt: np.ndarray  # (B,)
    height: np.ndarray  # (B,)
    q_legs: np.ndarray  # (B, 12) leg joint positions - default
    qd_legs: np.ndarray  # (B, 12)
    tau_legs: np.ndarray  # (B, 12)
    action: np.ndarray
    last_action: np.ndarray
    feet_z: np.ndarray  # (B, 2) sole height above the floor
    feet_lateral: np.ndarray  # (B,) left-right distance between the feet in the base frame (m)
    feet_speed: np.ndarray  # (B, 2) horizontal sole speed (m/s)
    stance: np.ndarray  # (B, 2) bool, the gait reference expects this foot down
    amplitude: np.ndarray  # (B,) gait amplitude
    fallen: np.ndarray
    base_height: float


# --- reward terms: fn(view, **params) -> (B,) ------------------------------------------------


def r_track_lin_vel(v: WalkView, sigma: float) -> np.ndarray:
    err = np.square(v.command[:, :2] - v.base_vel[:, :2]).sum(axis=1)
    return np.exp(-err / sigma)


def r_track_ang_vel(v: WalkView, sigma: float) -> np.ndarray:
    return np.exp(-np.square(v.command[:, 2] - v.gyro[:, 2]) / sigma)


def r_lin_vel_error(v: WalkView) -> np.ndarray:
    return np.linalg.norm(v.command[:, :2] - v.base_vel[:, :2], axis=1)


def r_ang_vel_error(v: WalkView) -> np.ndarray:
    return np.abs(v.command[:, 2] - v.gyro[:, 2])


def r_alive(v: WalkView) -> np.ndarray:
    return np.ones_like(v.height)


def r_upright(v: WalkView) -> np.ndarray:
    return np.square(v.gravity[:, :2]).sum(axis=1)


def r_base_height(v: WalkView, sigma: float) -> np.ndarray:
    return np.exp(-np.square((v.height - v.base_height) / sigma))


def r_lin_vel_z(v: WalkView) -> np.ndarray:
    return np.square(v.base_vel[:, 2])


def r_ang_vel_xy(v: WalkView) -> np.ndarray:
    return np.square(v.gyro[:, :2]).sum(axis=1)


def r_action_rate(v: WalkView) -> np.ndarray:
    return np.square(v.action - v.last_action).sum(axis=1)


def r_torque(v: WalkView) -> np.ndarray:
    return np.square(v.tau_legs).sum(axis=1)


def r_joint_vel(v: WalkView) -> np.ndarray:
    return np.square(v.qd_legs).sum(axis=1)


def r_contact_phase(v: WalkView) -> np.ndarray:
    """Fraction of feet whose contact matches the gait reference (stance down, swing up)."""
    contact = v.feet_z < CONTACT_HEIGHT_M
    return (contact == v.stance).mean(axis=1)


def r_feet_slip(v: WalkView) -> np.ndarray:
    contact = v.feet_z < CONTACT_HEIGHT_M
    return (v.feet_speed * contact).sum(axis=1)


def r_feet_too_close(v: WalkView, min_m: float) -> np.ndarray:
    return np.maximum(min_m - v.feet_lateral, 0.0)


def r_hip_splay(v: WalkView) -> np.ndarray:
    """Hip yaw and roll away from the default (turning needs a little, crossing legs none)."""
    return np.square(v.q_legs[:, [0, 1, 6, 7]]).sum(axis=1)


def r_stand_still(v: WalkView) -> np.ndarray:
    """With no command, every leg joint at the default pose."""
    still = ~gait.wants_motion(v.command)
    return np.abs(v.q_legs).sum(axis=1) * still


def r_fall(v: WalkView) -> np.ndarray:
    return v.fallen.astype(np.float64)


def default_rewards() -> tuple[RewardTerm, ...]:
    return (
        # sharp enough that a small command ignored costs reward: with sigma 0.05 / 0.1 (walk_v1,
        # walk_v2) stepping in place scored 82% of full tracking at 0.1 m/s and the policies
        # learned to ignore forward commands under ~0.2 m/s and turns under ~0.4 rad/s
        RewardTerm("track_lin_vel", r_track_lin_vel, 2.0, {"sigma": 0.02}),
        RewardTerm("track_ang_vel", r_track_ang_vel, 1.5, {"sigma": 0.04}),
        # ... but a sharp kernel is flat far from the command: a policy turning in place at 0.1
        # rad/s when asked for 0.6 scores ~0 either way and gets no pull toward turning (walk_v5's
        # first run lost its turns in place that way). A linear error term pulls everywhere.
        RewardTerm("lin_vel_error", r_lin_vel_error, -0.5),
        RewardTerm("ang_vel_error", r_ang_vel_error, -0.5),
        RewardTerm("alive", r_alive, 0.5),
        RewardTerm("upright", r_upright, -5.0),
        RewardTerm("base_height", r_base_height, 0.3, {"sigma": 0.05}),
        RewardTerm("lin_vel_z", r_lin_vel_z, -1.0),
        RewardTerm("ang_vel_xy", r_ang_vel_xy, -0.05),
        RewardTerm("action_rate", r_action_rate, -0.01),
        RewardTerm("torque", r_torque, -1e-6),
        RewardTerm("joint_vel", r_joint_vel, -5e-4),
        RewardTerm("contact_phase", r_contact_phase, 0.5),
        RewardTerm("feet_slip", r_feet_slip, -0.3),
        RewardTerm("feet_too_close", r_feet_too_close, -20.0, {"min_m": 0.14}),
        RewardTerm("hip_splay", r_hip_splay, -0.5),
        RewardTerm("stand_still", r_stand_still, -0.3),
        RewardTerm("fall", r_fall, -10.0),
    )


@dataclass
class WalkEnvConfig:
    num_envs: int = 64
    episode_s: float = 20.0
    threads: int = 2
    # commands: resampled every few seconds; some episodes and segments ask to stand still
    command_interval_s: tuple[float, float] = (3.0, 6.0)
    # the path tracker changes its command every 0.1 s and walks in short bursts (backing out of a
    # station for 0.7 s, a final turn): some segments are that short
    short_interval_prob: float = 0.3
    short_interval_s: tuple[float, float] = (0.4, 1.5)
    zero_command_prob: float = 0.2
    # commands shaped like `motion.path_tracker`'s: walk forward slowly, back out, turn on the
    # spot; the rest are uniform over the trained ranges (the benchmark's distribution)
    nav_command_prob: float = 0.35
    nav_vx: tuple[float, float] = (-0.2, 0.35)
    nav_wz: tuple[float, float] = (-0.5, 0.5)
    no_lateral_prob: float = 0.4  # navigation mostly walks forward and turns
    no_turn_prob: float = 0.3
    turn_only_prob: float = 0.15  # turning on the spot: how navigation starts and ends a walk
    # pushes on pelvis/torso, arm motion and a hand payload, as in the standing env
    push_interval_s: tuple[float, float] = (3.0, 6.0)
    push_force_n: tuple[float, float] = (20.0, 80.0)
    push_duration_s: tuple[float, float] = (0.1, 0.2)
    arm_change_prob: float = 0.01  # per control period: arms move to a new random pose
    arm_range_fraction: float = 0.5
    # grippers: the product walks with them open (the default) or closed on a carried object;
    # a finger reference the policy never saw made walk_v1 fall on its first station walk
    gripper_open_prob: float = 0.6
    payload_kg: tuple[float, float] = (0.0, 0.5)
    # command latency: in this share of episodes the new joint targets reach the motors only after
    # 0 to `action_delay_max_periods` policy periods (the rest of the time the old ones hold). A
    # link that delivers commands one period late made walk_v5 fall within 5 s (the
    # message_corruption scenario); the robot's own link will not be perfect either
    action_delay_prob: float = 0.5
    action_delay_max_periods: float = 1.0
    floor_friction: tuple[float, float] = (0.6, 1.2)
    init_joint_noise: float = 0.03
    # curriculum: command range x (0.3 + 0.7 d); pushes x d; arm reach x (0.2 + 0.8 d); stepping
    # reference amplitude at most 0.4 + 0.6 d
    difficulty: float = 1.0
    rewards: tuple[RewardTerm, ...] = field(default_factory=default_rewards)


def build_walk_model(spec: RobotSpec) -> mujoco.MjModel:
    """The training model with joint PD inside the actuators and the sensors the rewards read."""
    model = build_training_model(spec, extra_sensors=_walk_sensors(spec))
    jnt_of_act = model.actuator_trnid[:, 0]
    jids = [model.joint(j).id for j in spec.joint_names]
    act_of_joint = np.array([int(np.flatnonzero(jnt_of_act == j)[0]) for j in jids])
    kp = np.empty(model.nu)
    kd = np.empty(model.nu)
    kp[act_of_joint], kd[act_of_joint] = spec.kp, spec.kd
    model.actuator_gaintype[:] = mujoco.mjtGain.mjGAIN_FIXED
    model.actuator_gainprm[:, :] = 0.0
    model.actuator_gainprm[:, 0] = kp
    model.actuator_biastype[:] = mujoco.mjtBias.mjBIAS_AFFINE
    model.actuator_biasprm[:, :] = 0.0
    model.actuator_biasprm[:, 1] = -kp
    model.actuator_biasprm[:, 2] = -kd
    model.actuator_ctrllimited[:] = 0
    model.actuator_forcelimited[:] = 1
    lim = np.empty(model.nu)
    lim[act_of_joint] = spec.torque_limit
    model.actuator_forcerange[:, 0] = -lim
    model.actuator_forcerange[:, 1] = lim
    return model


def _walk_sensors(spec: RobotSpec) -> list[tuple[str, str, str, str | None]]:
    """(sensor type, name, site, reference body) added to the training model, in order."""
    sensors = []
    for side in ("left", "right"):
        sensors.append(("framepos", f"{side}_sole_world", spec.feet[side], None))
    for side in ("left", "right"):
        sensors.append(("framepos", f"{side}_sole_base", spec.feet[side], spec.root_body))
    for side in ("left", "right"):
        sensors.append(("framelinvel", f"{side}_sole_vel", spec.feet[side], None))
    return sensors


class WalkEnv:
    """`num_envs` robots on a flat floor, stepped together by MuJoCo's threaded rollout."""

    def __init__(self, spec: RobotSpec, cfg: WalkEnvConfig | None = None, seed: int = 0) -> None:
        self.spec = spec
        self.cfg = cfg or WalkEnvConfig()
        self.io = PolicyIO(spec, kind="walk")
        self.safety = SafetyMonitor(spec)
        self.rng = np.random.default_rng(seed)
        self.num_envs = n = self.cfg.num_envs
        base = build_walk_model(spec)
        self.models = [copy.deepcopy(base) for _ in range(n)]
        self.datas = [mujoco.MjData(m) for m in self.models]
        self._thread_datas = [mujoco.MjData(base) for _ in range(self.cfg.threads)]
        self._rollout = rollout.Rollout(nthread=self.cfg.threads)
        self.robot = TrainingRobot.of(base, spec)
        self.qadr, self.dadr = self.robot.qadr, self.robot.dadr
        jids = [base.joint(j).id for j in spec.joint_names]
        jnt_of_act = base.actuator_trnid[:, 0]
        self.act_of_joint = np.array([int(np.flatnonzero(jnt_of_act == j)[0]) for j in jids])
        self.substeps = spec.substeps
        self.dt = spec.physics_dt * self.substeps
        self.max_steps = int(round(self.cfg.episode_s / self.dt))
        self.legs = spec.indices("legs")
        self.default_q = spec.default_q.copy()
        self.upper_idx = self.io.upper_idx
        self.obs_dim, self.action_dim = self.io.obs_dim, self.io.action_dim
        self.priv_dim = PRIV_DIM

        self.nstate = mujoco.mj_stateSize(base, STATE_SPEC)
        self.nctrl = mujoco.mj_stateSize(base, CONTROL_SPEC)
        self.state = np.zeros((n, self.nstate))
        self.control = np.zeros((n, 1, self.nctrl))
        self._sens = {}
        for name in ("imu_gyro", "imu_vel", *(f"{s}_{k}" for k in ("sole_world", "sole_base", "sole_vel") for s in ("left", "right"))):
            sid = base.sensor(name).id
            self._sens[name] = slice(base.sensor_adr[sid], base.sensor_adr[sid] + base.sensor_dim[sid])
        # torques: actuator forces are not in the state; recomputed from the PD law below

        self.push_body_ids = np.array([base.body(b).id for b in ("pelvis", "torso")])
        self.nbody = base.nbody

        self.ref_lo, self.ref_hi = arm_reference_range(spec, self.upper_idx, self.cfg.arm_range_fraction)
        fingers = set(spec.indices(("left_gripper", "right_gripper")).tolist())
        self.finger_idx = np.array([k for k, j in enumerate(self.upper_idx) if j in fingers])
        self.finger_lo = spec.q_lower[self.upper_idx[self.finger_idx]]
        self.finger_hi = spec.q_upper[self.upper_idx[self.finger_idx]]

        self.difficulty = self.cfg.difficulty
        self.t = np.zeros(n, dtype=np.int64)
        self.action = np.zeros((n, self.action_dim))
        self.last_action = np.zeros((n, self.action_dim))
        self.delay_substeps = np.zeros(n, dtype=np.int64)  # physics steps the old targets still hold
        self.applied_q_target = np.full((n, len(spec.joint_names)), np.nan)  # what the motors follow now; nan: none yet
        self.upper_ref = np.tile(self.default_q, (n, 1))
        self.arm_goal = np.tile(self.default_q[self.upper_idx], (n, 1))
        self.command = np.zeros((n, 3))  # the ramped command (gait.ramp_command) the robot follows now
        self.target_command = np.zeros((n, 3))  # the order, as sampled
        self.next_command = np.zeros(n)
        self.phase = np.zeros(n)
        self.amplitude = np.zeros(n)
        self.next_push = np.zeros(n)
        self.push_end = np.zeros(n)
        self.push_force = np.zeros((n, 3))
        self.push_body = np.zeros(n, dtype=np.int64)
        self.payload = np.zeros(n)
        self.friction = np.ones(n)
        self.ep_return = np.zeros(n)
        self.ep_track_err = np.zeros(n)
        self.ep_moving_steps = np.zeros(n)
        self.sensordata = np.zeros((n, base.nsensordata))
        self._state_out = np.zeros((n, self.substeps, self.nstate))
        self._sens_out = np.zeros((n, self.substeps, base.nsensordata))

    def close(self) -> None:
        self._rollout.close()

    # --- episodes ----------------------------------------------------------------------------

    def _sample_command(self, i: int) -> None:
        cfg, rng = self.cfg, self.rng
        scale = 0.3 + 0.7 * self.difficulty
        if rng.random() < cfg.zero_command_prob:
            cmd = np.zeros(3)
        elif rng.random() < cfg.nav_command_prob:
            cmd = np.array([rng.uniform(*cfg.nav_vx), 0.0, rng.uniform(*cfg.nav_wz)]) * scale
            if rng.random() < 0.4:  # walk straight, or turn on the spot
                cmd[2 if rng.random() < 0.5 else 0] = 0.0
        else:
            cmd = rng.uniform(gait.COMMAND_LOW, gait.COMMAND_HIGH) * scale
            if rng.random() < cfg.no_lateral_prob:
                cmd[1] = 0.0
            if rng.random() < cfg.no_turn_prob:
                cmd[2] = 0.0
            elif rng.random() < cfg.turn_only_prob:
                cmd[:2] = 0.0
        if not gait.wants_motion(cmd):
            cmd[:] = 0.0  # inside the deadband: a clean stand-still order
        self.target_command[i] = cmd
        interval = cfg.short_interval_s if rng.random() < cfg.short_interval_prob else cfg.command_interval_s
        self.next_command[i] = self.t[i] * self.dt + rng.uniform(*interval)

    def _reset_env(self, i: int) -> None:
        cfg, rng, m, d = self.cfg, self.rng, self.models[i], self.datas[i]
        yaw = rng.uniform(-np.pi, np.pi)
        self.friction[i], self.payload[i] = place_robot(
            m, d, self.spec, self.robot, rng,
            joint_noise=cfg.init_joint_noise, friction=cfg.floor_friction, payload_kg=cfg.payload_kg, yaw=yaw,
        )
        mujoco.mj_getState(m, d, self.state[i], STATE_SPEC)
        self.sensordata[i] = d.sensordata

        self.t[i] = 0
        self.action[i] = 0.0
        self.last_action[i] = 0.0
        self.upper_ref[i] = self.default_q
        self.arm_goal[i] = self.default_q[self.upper_idx]
        self.arm_goal[i, self.finger_idx] = self._gripper_targets()
        self.upper_ref[i, self.upper_idx[self.finger_idx]] = self.arm_goal[i, self.finger_idx]
        self.phase[i], self.amplitude[i] = 0.0, 0.0
        self.command[i] = 0.0
        self.delay_substeps[i] = sample_action_delay(rng, cfg.action_delay_prob, cfg.action_delay_max_periods, self.substeps)
        self.applied_q_target[i] = np.nan
        self._sample_command(i)
        self.next_push[i] = rng.uniform(*cfg.push_interval_s)
        self.push_end[i] = 0.0
        self.push_force[i] = 0.0
        self.ep_return[i] = 0.0
        self.ep_track_err[i] = 0.0
        self.ep_moving_steps[i] = 0.0

    def reset(self) -> tuple[np.ndarray, np.ndarray]:
        for i in range(self.num_envs):
            self._reset_env(i)
        return self._obs(self._read())

    def _gripper_targets(self) -> np.ndarray:
        """Both grippers' finger references: open, or closed on an object (anywhere in range)."""
        lo, hi = self.finger_lo, self.finger_hi
        if self.rng.random() < self.cfg.gripper_open_prob:
            return hi.copy()
        return self.rng.uniform(lo, hi) if self.rng.random() < 0.5 else lo.copy()

    # --- state access ------------------------------------------------------------------------

    def _read(self) -> dict[str, np.ndarray]:
        s = self.state
        qpos = s[:, 1 : 1 + self.models[0].nq]
        qvel = s[:, 1 + self.models[0].nq : 1 + self.models[0].nq + self.models[0].nv]
        sd, sens = self.sensordata, self._sens
        return {
            "base_quat": qpos[:, 3:7],
            "height": qpos[:, 2],
            "q": qpos[:, self.qadr],
            "qd": qvel[:, self.dadr],
            "gyro": sd[:, sens["imu_gyro"]],
            "base_vel": sd[:, sens["imu_vel"]],
            "feet_world": np.stack([sd[:, sens["left_sole_world"]], sd[:, sens["right_sole_world"]]], axis=1),
            "feet_base": np.stack([sd[:, sens["left_sole_base"]], sd[:, sens["right_sole_base"]]], axis=1),
            "feet_vel": np.stack([sd[:, sens["left_sole_vel"]], sd[:, sens["right_sole_vel"]]], axis=1),
        }

    def _obs(self, s: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        obs = self.io.build_observation_batch(
            s["base_quat"], s["gyro"], s["q"], s["qd"], self.upper_ref, self.last_action,
            self.command, gait.gait_observation(self.phase, self.amplitude),
        )
        active = (self.push_end > self.t * self.dt)[:, None]
        priv = np.concatenate(
            [
                s["base_vel"],
                (s["height"] - self.spec.base_height)[:, None] * 10.0,
                self.push_force * active / 100.0,
                self.payload[:, None],
                self.friction[:, None],
                s["feet_world"][:, :, 2] * 10.0,
                s["feet_base"][:, :, :2].reshape(self.num_envs, 4),
            ],
            axis=1,
        ).astype(np.float32)
        return obs, priv

    # --- events ------------------------------------------------------------------------------

    def _events(self) -> None:
        cfg, rng = self.cfg, self.rng
        now = self.t * self.dt
        for i in np.flatnonzero(now >= self.next_command):
            self._sample_command(int(i))
        # arms: occasionally a new random pose (carrying, reaching), approached at ~1 rad/s; the
        # reach grows with difficulty but never starts at zero, so the arm references are never
        # an input the policy has not seen vary
        reach = 0.2 + 0.8 * self.difficulty
        for i in np.flatnonzero(rng.random(self.num_envs) < cfg.arm_change_prob):
            home = self.default_q[self.upper_idx]
            self.arm_goal[i] = home + (rng.uniform(self.ref_lo, self.ref_hi) - home) * reach
            self.arm_goal[i, self.finger_idx] = self._gripper_targets()
        cur = self.upper_ref[:, self.upper_idx]
        self.upper_ref[:, self.upper_idx] = cur + np.clip(self.arm_goal - cur, -self.dt, self.dt)
        for i in np.flatnonzero(now >= self.next_push):
            ang = rng.uniform(0, 2 * np.pi)
            mag = rng.uniform(*cfg.push_force_n) * self.difficulty
            self.push_force[i] = (mag * np.cos(ang), mag * np.sin(ang), 0.0)
            self.push_body[i] = self.push_body_ids[rng.integers(len(self.push_body_ids))]
            self.push_end[i] = now[i] + rng.uniform(*cfg.push_duration_s)
            self.next_push[i] = now[i] + rng.uniform(*cfg.push_interval_s)

    # --- step --------------------------------------------------------------------------------

    def step(self, action: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        """Advance every env one policy period; finished envs are reset (see StandEnv.step)."""
        n = self.num_envs
        self.action = np.clip(np.asarray(action, dtype=np.float64), -self.io.action_clip, self.io.action_clip)
        self._events()
        # curriculum: early on the stepping reference is shallower (the amplitude is observed, so
        # the policy knows); at difficulty 1 it is the full reference the runtime uses
        max_amp = 0.4 + 0.6 * self.difficulty
        self.command = gait.ramp_command(self.command, self.target_command, self.dt)
        self.phase, self.amplitude = gait.advance_gait(
            self.phase, self.amplitude, gait.keeps_stepping(self.target_command, self.command), self.dt
        )
        self.amplitude = np.minimum(self.amplitude, max_amp)
        leg_ref = gait.leg_reference(self.phase, self.amplitude, self.command)
        q_target = self.io.targets_from_action(self.action, self.upper_ref, leg_ref)
        q_target = np.clip(q_target, self.safety.lower, self.safety.upper)

        ctrl = self.control[:, 0]
        ctrl[:] = 0.0
        ctrl[:, self.act_of_joint] = q_target
        pushing = (self.push_end > self.t * self.dt)
        xfrc = ctrl[:, self.models[0].nu :].reshape(n, self.nbody, 6)
        for i in np.flatnonzero(pushing):
            xfrc[i, self.push_body[i], :3] = self.push_force[i]
        # a zero-order hold over the period; skip_checks wants every step's control spelled out
        control = np.repeat(self.control, self.substeps, axis=1)
        held = np.where(np.isnan(self.applied_q_target), q_target, self.applied_q_target)
        for i in np.flatnonzero(self.delay_substeps > 0):
            block = control[i]  # a view: the first substeps still follow the previous targets
            block[: self.delay_substeps[i], self.act_of_joint] = held[i]
        self.applied_q_target = q_target.copy()
        self._rollout.rollout(
            self.models, self._thread_datas, self.state, control,
            control_spec=CONTROL_SPEC, nstep=self.substeps, skip_checks=True,
            state=self._state_out, sensordata=self._sens_out,
        )
        self.state = self._state_out[:, -1].copy()
        self.sensordata = self._sens_out[:, -1].copy()
        self.t += 1

        s = self._read()
        gravity = projected_gravity(s["base_quat"])
        tilt = tilt_from_gravity(gravity)
        fallen = is_fallen(tilt, s["height"]) | ~np.all(np.isfinite(self.state), axis=1)
        kp, kd, lim = self.spec.kp[self.legs], self.spec.kd[self.legs], self.spec.torque_limit[self.legs]
        tau = np.clip(kp * (q_target[:, self.legs] - s["q"][:, self.legs]) - kd * s["qd"][:, self.legs], -lim, lim)
        feet_base = s["feet_base"]
        view = WalkView(
            command=self.command,
            base_vel=s["base_vel"],
            gyro=s["gyro"],
            gravity=gravity,
            tilt=tilt,
            height=s["height"],
            q_legs=s["q"][:, self.legs] - self.default_q[self.legs],
            qd_legs=s["qd"][:, self.legs],
            tau_legs=tau,
            action=self.action,
            last_action=self.last_action,
            feet_z=s["feet_world"][:, :, 2],
            feet_lateral=feet_base[:, 0, 1] - feet_base[:, 1, 1],
            feet_speed=np.linalg.norm(s["feet_vel"][:, :, :2], axis=2),
            stance=gait.expected_stance(self.phase, self.amplitude),
            amplitude=self.amplitude,
            fallen=fallen,
            base_height=self.spec.base_height,
        )
        terms = {r.name: r.weight * r.fn(view, **r.params) for r in self.cfg.rewards}
        reward = np.nan_to_num(sum(terms.values()), nan=-10.0) * self.dt / 0.02
        self.ep_return += reward
        moving = gait.wants_motion(self.command)
        err = np.linalg.norm(self.command[:, :2] - s["base_vel"][:, :2], axis=1)
        self.ep_track_err += np.where(moving, err**2, 0.0)
        self.ep_moving_steps += moving
        self.last_action = self.action.copy()
        obs, priv = self._obs(s)

        terminated = fallen
        truncated = (self.t >= self.max_steps) & ~terminated
        info: dict = {
            "reward_terms": {k: float(np.mean(v)) for k, v in terms.items()},
            "tilt": tilt,
            "base_vel": s["base_vel"],
            "episodes": [],
        }
        info["final_obs"], info["final_priv"] = obs.copy(), priv.copy()
        done = np.flatnonzero(terminated | truncated)
        for i in done:
            steps = self.ep_moving_steps[i]
            info["episodes"].append(
                {
                    "return": float(self.ep_return[i]),
                    "length": int(self.t[i]),
                    "fell": bool(terminated[i]),
                    "track_rms": float(np.sqrt(self.ep_track_err[i] / steps)) if steps else None,
                }
            )
            self._reset_env(int(i))
        if done.size:
            obs2, priv2 = self._obs(self._read())
            obs[done], priv[done] = obs2[done], priv2[done]
        return obs, priv, reward, terminated, truncated, info
