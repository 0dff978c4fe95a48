"""Vectorised standing-balance training environment: the robot alone on a floor plane.

Isaac-Lab style: rewards and perturbations are named, parameterised terms listed in
`StandEnvConfig`, not branches in the step loop. Physics matches the simulator: the kitchen
scene's solver options, `physics_dt` steps, `substeps` per policy step, and PD computed in
Python every substep exactly as the robot side does (tau = kp*(q_t-q) - kd*qd, clamped to the
actuator range). Observations and joint targets come from `control.observation.PolicyIO`,
and falls from `control.safety`, so training and runtime share one definition of each.

Per episode and during it, the env randomises: arm/gripper references moving smoothly to
random targets inside the joint ranges, a 0-0.5 kg payload on one hand, floor friction, and
horizontal pushes on the pelvis or torso every few seconds.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import mujoco
import numpy as np

from control.observation import PolicyIO, projected_gravity, tilt_from_gravity
from control.safety import SafetyMonitor, is_fallen
from humanoid.robot_spec import RobotSpec
from scenarios.world import SCENES_DIR

SOLVER_SCENE = "kitchen"  # training copies this scene's <option> so contacts behave the same


@dataclass
class StepView:
    """Batched quantities reward terms read (B = number of envs)."""

    gravity: np.ndarray  # (B, 3) projected gravity
    tilt: np.ndarray  # (B,)
    height: np.ndarray  # (B,)
    q: np.ndarray  # (B, n)
    qd: np.ndarray  # (B, n)
    tau: np.ndarray  # (B, n) torques of the last substep
    action: np.ndarray  # (B, n_act)
    last_action: np.ndarray  # (B, n_act)
    feet_shift: np.ndarray  # (B, 2) horizontal foot displacement since reset (m)
    fallen: np.ndarray  # (B,) bool
    stance_q: np.ndarray  # (B, n) the pose each episode started in: default, or a walking policy's stop
    controlled_idx: np.ndarray
    base_height: float


# --- reward terms: fn(view, **params) -> (B,) ------------------------------------------------


def r_alive(v: StepView) -> np.ndarray:
    return np.ones_like(v.height)


def r_upright(v: StepView, sigma: float) -> np.ndarray:
    return np.exp(-np.square(v.tilt / sigma))


def r_base_height(v: StepView, sigma: float) -> np.ndarray:
    return np.exp(-np.square((v.height - v.base_height) / sigma))


def r_feet_stay(v: StepView) -> np.ndarray:
    return v.feet_shift.sum(axis=1)


def r_joint_vel(v: StepView) -> np.ndarray:
    return np.square(v.qd[:, v.controlled_idx]).sum(axis=1)


def r_action_rate(v: StepView) -> np.ndarray:
    return np.square(v.action - v.last_action).sum(axis=1)


def r_torque(v: StepView) -> np.ndarray:
    return np.square(v.tau[:, v.controlled_idx]).sum(axis=1)


def r_stance_pose(v: StepView) -> np.ndarray:
    # against the stance the episode started in, not the default pose: handed a wide, staggered
    # stance by the walking policy, the standing policy must hold it (pulling the legs back to the
    # default pose with the soles on the floor drags the robot over)
    return np.square(v.q[:, v.controlled_idx] - v.stance_q[:, v.controlled_idx]).sum(axis=1)


def r_fall(v: StepView) -> np.ndarray:
    return v.fallen.astype(np.float64)


@dataclass(frozen=True)
class RewardTerm:
    name: str
    fn: Callable[..., np.ndarray]
    weight: float
    params: dict[str, float] = field(default_factory=dict)


def default_rewards() -> tuple[RewardTerm, ...]:
    return (
        RewardTerm("alive", r_alive, 1.0),
        RewardTerm("upright", r_upright, 0.5, {"sigma": 0.2}),
        RewardTerm("base_height", r_base_height, 0.3, {"sigma": 0.05}),
        RewardTerm("feet_stay", r_feet_stay, -2.0),
        RewardTerm("joint_vel", r_joint_vel, -1e-3),
        RewardTerm("action_rate", r_action_rate, -0.02),
        RewardTerm("torque", r_torque, -2e-6),
        RewardTerm("stance_pose", r_stance_pose, -0.2),
        RewardTerm("fall", r_fall, -10.0),
    )


@dataclass
class StandEnvConfig:
    num_envs: int = 32
    episode_s: float = 10.0
    # pushes: horizontal force on pelvis or torso, held for a short time
    push_interval_s: tuple[float, float] = (2.0, 4.0)
    push_force_n: tuple[float, float] = (20.0, 120.0)
    push_duration_s: tuple[float, float] = (0.1, 0.2)
    push_bodies: tuple[str, ...] = ("pelvis", "torso")
    # arm references: min-jerk moves to random targets, then a random hold
    arm_speed_rad_s: tuple[float, float] = (0.3, 2.0)
    arm_hold_s: tuple[float, float] = (0.0, 1.5)
    arm_range_fraction: float = 0.9  # targets inside this central fraction of each joint range
    still_arm_prob: float = 0.15  # some episodes keep the arms at the default pose
    payload_kg: tuple[float, float] = (0.0, 0.5)
    floor_friction: tuple[float, float] = (0.5, 1.2)
    init_joint_noise: float = 0.03
    # episodes that start in a stance like the walking policy leaves when it stops (feet wide,
    # staggered, toed in or out: measured 0.29-0.45 m wide, up to 0.11 m staggered, 14 deg), so
    # the hand-over from walking to standing is inside what this policy was trained on
    walk_stance_prob: float = 0.5
    # outward, per leg; walk_v6 stops with the feet up to 0.58 m apart (hip roll up to 0.29 rad),
    # wider than the 0.15 rad stand_v2 was trained with, and stand_v2 fell from such stances
    stance_hip_roll_rad: tuple[float, float] = (0.0, 0.3)
    stance_hip_pitch_rad: float = 0.12  # +- per leg (stagger)
    stance_hip_yaw_rad: float = 0.25  # +- per leg
    # command latency, as in the walking env (walk_env.WalkEnvConfig): in this share of episodes
    # the new joint targets reach the motors 0 to `action_delay_max_periods` periods late; under a
    # one-period delay the arm skills on stand_v2 failed (the message_corruption scenario)
    action_delay_prob: float = 0.5
    action_delay_max_periods: float = 1.0
    # curriculum: pushes scale with difficulty, arm moves with 0.3 + 0.7 * difficulty
    difficulty: float = 1.0
    rewards: tuple[RewardTerm, ...] = field(default_factory=default_rewards)


def build_training_model(
    spec: RobotSpec, extra_sensors: list[tuple[str, str, str, str | None]] = ()
) -> mujoco.MjModel:
    """The robot's MJCF plus a floor plane, with the simulator scene's solver options.

    `extra_sensors`: (type, name, site, reference body or None) for training-only sensors
    (`framepos`, `framelinvel`), appended after the robot's own.
    """
    scene = mujoco.MjSpec.from_file(str(SCENES_DIR / f"{SOLVER_SCENE}.xml"))
    ms = mujoco.MjSpec.from_file(str(spec.mjcf_path))
    ms.option.timestep = spec.physics_dt
    ms.option.integrator = scene.option.integrator
    ms.option.cone = scene.option.cone
    ms.option.impratio = scene.option.impratio
    floor = ms.worldbody.add_geom()
    floor.name = "floor"
    floor.type = mujoco.mjtGeom.mjGEOM_PLANE
    floor.size = [0.0, 0.0, 0.05]
    floor.contype = 1
    floor.conaffinity = 1
    kinds = {"framepos": mujoco.mjtSensor.mjSENS_FRAMEPOS, "framelinvel": mujoco.mjtSensor.mjSENS_FRAMELINVEL}
    for kind, name, site, ref_body in extra_sensors:
        sensor = ms.add_sensor()
        sensor.name, sensor.type = name, kinds[kind]
        sensor.objtype, sensor.objname = mujoco.mjtObj.mjOBJ_SITE, site
        if ref_body is not None:
            sensor.reftype, sensor.refname = mujoco.mjtObj.mjOBJ_BODY, ref_body
    return ms.compile()


@dataclass(frozen=True)
class TrainingRobot:
    """The robot's addresses and ids in a training model, shared by the standing and walking envs."""

    qadr: np.ndarray  # qpos addresses of the actuated joints, wire order
    dadr: np.ndarray  # qvel addresses of the same
    foot_bodies: np.ndarray  # (left, right)
    friction_geoms: np.ndarray  # the floor and the soles: their friction is randomised
    hand_bodies: np.ndarray  # (left, right): one carries the payload
    hand_mass: np.ndarray  # their masses without payload

    @classmethod
    def of(cls, model: mujoco.MjModel, spec: RobotSpec) -> TrainingRobot:
        jids = [model.joint(j).id for j in spec.joint_names]
        feet = np.array([model.body(spec.feet[s]).id for s in ("left", "right")])
        foot_geoms = [g for g in range(model.ngeom) if model.geom_bodyid[g] in set(feet.tolist())]
        hands = np.array([model.body(spec.end_effectors[s].hand_body).id for s in ("left", "right")])
        return cls(
            qadr=np.array([model.jnt_qposadr[j] for j in jids]),
            dadr=np.array([model.jnt_dofadr[j] for j in jids]),
            foot_bodies=feet,
            friction_geoms=np.array([model.geom("floor").id, *foot_geoms]),
            hand_bodies=hands,
            hand_mass=model.body_mass[hands].copy(),
        )


def place_robot(
    m: mujoco.MjModel,
    d: mujoco.MjData,
    spec: RobotSpec,
    robot: TrainingRobot,
    rng: np.random.Generator,
    *,
    joint_noise: float,
    friction: tuple[float, float],
    payload_kg: tuple[float, float],
    yaw: float = 0.0,
    stance: np.ndarray | None = None,
) -> tuple[float, float]:
    """Start an episode: the robot in its default pose (plus `stance` offsets, plus noise) at
    `yaw`, soles on the floor, floor/sole friction and a payload on one hand drawn from their
    ranges; returns both draws."""
    mujoco.mj_resetData(m, d)
    d.qpos[2] = spec.base_height
    d.qpos[3:7] = (np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2))
    q0 = spec.default_q + (0.0 if stance is None else stance) + rng.uniform(-1, 1, spec.n_joints) * joint_noise
    d.qpos[robot.qadr] = np.clip(q0, spec.q_lower, spec.q_upper)
    mu = rng.uniform(*friction)
    m.geom_friction[robot.friction_geoms, 0] = mu
    payload = rng.uniform(*payload_kg)
    m.body_mass[robot.hand_bodies] = robot.hand_mass
    m.body_mass[robot.hand_bodies[rng.integers(2)]] += payload
    mujoco.mj_forward(m, d)
    # settle the feet onto the floor so episodes start in contact
    d.qpos[2] -= float(np.min(d.xpos[robot.foot_bodies, 2])) - 0.06
    mujoco.mj_forward(m, d)
    return mu, payload


def sample_stance(spec: RobotSpec, rng: np.random.Generator, cfg: StandEnvConfig) -> np.ndarray:
    """Joint offsets from the default pose for a stance like a walking stop: each leg's hip
    rolled outward, pitched (stagger) and yawed, with the ankle countering roll and pitch so the
    sole stays flat. (The hip roll and ankle roll axes, and hip pitch and ankle pitch axes, are
    parallel in the default pose, robot.xml.)"""
    off = np.zeros(spec.n_joints)
    names = list(spec.joint_names)
    for side, outward in (("left", 1.0), ("right", -1.0)):
        roll = outward * rng.uniform(*cfg.stance_hip_roll_rad)
        pitch = rng.uniform(-1.0, 1.0) * cfg.stance_hip_pitch_rad
        off[names.index(f"{side}_hip_roll")] = roll
        off[names.index(f"{side}_ankle_roll")] = -roll
        off[names.index(f"{side}_hip_pitch")] = pitch
        off[names.index(f"{side}_ankle_pitch")] = -pitch
        off[names.index(f"{side}_hip_yaw")] = rng.uniform(-1.0, 1.0) * cfg.stance_hip_yaw_rad
    return off


def sample_action_delay(rng: np.random.Generator, prob: float, max_periods: float, substeps: int) -> int:
    """Physics steps an episode's joint targets reach the motors late: 0 to `max_periods` policy
    periods in a `prob` share of episodes, else 0. Both draws always happen, so the random stream
    does not depend on the delay settings (shared by the standing and walking envs)."""
    delayed = rng.random() < prob
    k = int(rng.integers(0, int(round(max_periods * substeps)) + 1))
    return k if delayed else 0


def arm_reference_range(spec: RobotSpec, upper_idx: np.ndarray, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Random arm/gripper targets stay inside this central `fraction` of each joint range."""
    lo, hi = spec.q_lower[upper_idx], spec.q_upper[upper_idx]
    mid, half = (lo + hi) / 2, (hi - lo) / 2 * fraction
    return mid - half, mid + half


def _min_jerk(tau: np.ndarray) -> np.ndarray:
    return tau**3 * (10.0 - 15.0 * tau + 6.0 * tau**2)


class StandEnv:
    """`num_envs` independent robots (one MjModel each, so mass and friction can differ)."""

    def __init__(self, spec: RobotSpec, cfg: StandEnvConfig | None = None, seed: int = 0) -> None:
        self.spec = spec
        self.cfg = cfg or StandEnvConfig()
        self.io = PolicyIO(spec)
        self.safety = SafetyMonitor(spec)
        self.rng = np.random.default_rng(seed)
        self.num_envs = n = self.cfg.num_envs
        base = build_training_model(spec)
        self.models = [copy.deepcopy(base) for _ in range(n)]
        self.datas = [mujoco.MjData(m) for m in self.models]
        self.robot = TrainingRobot.of(base, spec)
        self.qadr, self.dadr, self.foot_bodies = self.robot.qadr, self.robot.dadr, self.robot.foot_bodies
        self.substeps = spec.substeps
        self.dt = spec.physics_dt * self.substeps
        self.max_steps = int(round(self.cfg.episode_s / self.dt))
        self.kp, self.kd, self.tau_lim = spec.kp, spec.kd, spec.torque_limit
        self.default_q = spec.default_q.copy()
        self.upper_idx = self.io.upper_idx
        self.obs_dim, self.action_dim = self.io.obs_dim, self.io.action_dim
        self.priv_dim = 13

        self.push_body_ids = np.array([base.body(b).id for b in self.cfg.push_bodies])

        self.ref_lo, self.ref_hi = arm_reference_range(spec, self.upper_idx, self.cfg.arm_range_fraction)

        self.difficulty = self.cfg.difficulty
        nu = len(self.upper_idx)
        self.t = np.zeros(n, dtype=np.int64)
        self.action = np.zeros((n, self.action_dim))
        self.last_action = np.zeros((n, self.action_dim))
        self.upper_ref = np.tile(self.default_q, (n, 1))
        self.ref_start = np.zeros((n, nu))
        self.ref_goal = np.zeros((n, nu))
        self.ref_t = np.zeros(n)
        self.ref_T = np.ones(n)
        self.ref_hold = np.zeros(n)
        self.still_arms = np.zeros(n, dtype=bool)
        self.next_push = np.zeros(n)
        self.push_end = np.zeros(n)
        self.push_force = np.zeros((n, 3))
        self.push_body = np.zeros(n, dtype=np.int64)
        self.payload = np.zeros(n)
        self.friction = np.ones(n)
        self.feet_xy0 = np.zeros((n, 2, 2))
        self.stance_q = np.tile(self.default_q, (n, 1))
        self.tau = np.zeros((n, spec.n_joints))
        self.delay_substeps = np.zeros(n, dtype=np.int64)  # physics steps the previous targets still hold
        self.applied_q_target = np.full((n, spec.n_joints), np.nan)  # what the motors follow now; nan: none yet
        self.ep_return = np.zeros(n)

    # --- state access ------------------------------------------------------------------------

    def _read(self) -> dict[str, np.ndarray]:
        qpos = np.stack([d.qpos for d in self.datas])
        qvel = np.stack([d.qvel for d in self.datas])
        feet = np.stack([d.xpos[self.foot_bodies, :2] for d in self.datas])
        return {
            "base_quat": qpos[:, 3:7],
            "gyro": qvel[:, 3:6],  # free-joint angular velocity is in the body frame, as a gyro reads
            "linvel_world": qvel[:, 0:3],
            "height": qpos[:, 2],
            "q": qpos[:, self.qadr],
            "qd": qvel[:, self.dadr],
            "feet": feet,
        }

    def _obs(self, s: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        obs = self.io.build_observation_batch(s["base_quat"], s["gyro"], s["q"], s["qd"], self.upper_ref, self.last_action)
        # the critic may see what the robot cannot measure (asymmetric actor-critic)
        quat = s["base_quat"]
        lin_body = np.stack(
            [_rotate_inv(quat[i], s["linvel_world"][i]) for i in range(self.num_envs)]
        )
        shift = np.linalg.norm(s["feet"] - self.feet_xy0, axis=2)
        active = (self.push_end > self.t * self.dt)[:, None]
        priv = np.concatenate(
            [
                lin_body,
                (s["height"] - self.spec.base_height)[:, None] * 10.0,
                self.push_force * active / 100.0,
                self.payload[:, None],
                self.friction[:, None],
                shift * 10.0,
                np.zeros((self.num_envs, 2)),
            ],
            axis=1,
        ).astype(np.float32)
        return obs, priv

    # --- episodes ----------------------------------------------------------------------------

    def _reset_env(self, i: int) -> None:
        cfg, rng, m, d = self.cfg, self.rng, self.models[i], self.datas[i]
        stance = sample_stance(self.spec, rng, cfg) if rng.random() < cfg.walk_stance_prob else np.zeros(self.spec.n_joints)
        self.stance_q[i] = self.default_q + stance
        self.friction[i], self.payload[i] = place_robot(
            m, d, self.spec, self.robot, rng,
            joint_noise=cfg.init_joint_noise, friction=cfg.floor_friction, payload_kg=cfg.payload_kg, stance=stance,
        )
        self.t[i] = 0
        self.action[i] = 0.0
        self.last_action[i] = 0.0
        self.upper_ref[i] = self.default_q
        self.still_arms[i] = rng.random() < cfg.still_arm_prob
        self.ref_start[i] = self.default_q[self.upper_idx]
        self.ref_goal[i] = self.ref_start[i]
        self.ref_t[i], self.ref_T[i], self.ref_hold[i] = 0.0, 1.0, rng.uniform(*cfg.arm_hold_s)
        self.next_push[i] = rng.uniform(*cfg.push_interval_s)
        self.push_end[i] = 0.0
        self.push_force[i] = 0.0
        d.xfrc_applied[:] = 0.0
        self.feet_xy0[i] = d.xpos[self.foot_bodies, :2]
        self.tau[i] = 0.0
        self.delay_substeps[i] = sample_action_delay(rng, cfg.action_delay_prob, cfg.action_delay_max_periods, self.substeps)
        self.applied_q_target[i] = np.nan
        self.ep_return[i] = 0.0

    def reset(self) -> tuple[np.ndarray, np.ndarray]:
        for i in range(self.num_envs):
            self._reset_env(i)
        return self._obs(self._read())

    # --- perturbation events -----------------------------------------------------------------

    def _advance_arm_refs(self) -> None:
        cfg, rng = self.cfg, self.rng
        self.ref_t += self.dt
        done = (self.ref_t >= self.ref_T + self.ref_hold) & ~self.still_arms
        for i in np.flatnonzero(done):
            self.ref_start[i] = self.ref_goal[i]
            reach = 0.3 + 0.7 * self.difficulty
            home = self.default_q[self.upper_idx]
            self.ref_goal[i] = home + (rng.uniform(self.ref_lo, self.ref_hi) - home) * reach
            speed = rng.uniform(*cfg.arm_speed_rad_s) * reach
            # min-jerk peak speed is 1.875x the mean: size the duration by the peak
            self.ref_T[i] = max(0.2, 1.875 * float(np.max(np.abs(self.ref_goal[i] - self.ref_start[i]))) / speed)
            self.ref_t[i] = 0.0
            self.ref_hold[i] = rng.uniform(*cfg.arm_hold_s)
        tau = np.clip(self.ref_t / self.ref_T, 0.0, 1.0)[:, None]
        self.upper_ref[:, self.upper_idx] = self.ref_start + (self.ref_goal - self.ref_start) * _min_jerk(tau)

    def _apply_pushes(self) -> None:
        cfg, rng = self.cfg, self.rng
        now = self.t * self.dt
        start = now >= self.next_push
        for i in np.flatnonzero(start):
            ang = rng.uniform(0, 2 * np.pi)
            mag = rng.uniform(*cfg.push_force_n) * self.difficulty
            self.push_force[i] = (mag * np.cos(ang), mag * np.sin(ang), 0.0)
            self.push_body[i] = self.push_body_ids[rng.integers(len(self.push_body_ids))]
            self.push_end[i] = now[i] + rng.uniform(*cfg.push_duration_s)
            self.next_push[i] = now[i] + rng.uniform(*cfg.push_interval_s)
        for i, d in enumerate(self.datas):
            d.xfrc_applied[:] = 0.0
            if now[i] < self.push_end[i]:
                d.xfrc_applied[self.push_body[i], :3] = self.push_force[i]

    # --- step --------------------------------------------------------------------------------

    def step(self, action: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        """Advance every env one policy period.

        Returns (obs, priv, reward, terminated, truncated, info); finished envs are reset and
        their new first observation returned; `info["final_obs"]`/`["final_priv"]` hold the
        last observation of truncated episodes (for value bootstrapping).
        """
        self.action = np.clip(np.asarray(action, dtype=np.float64), -self.io.action_clip, self.io.action_clip)
        self._advance_arm_refs()
        self._apply_pushes()
        q_target = self.io.targets_from_action(self.action, self.upper_ref)
        q_target = np.clip(q_target, self.safety.lower, self.safety.upper)
        kp, kd, lim, qa, da = self.kp, self.kd, self.tau_lim, self.qadr, self.dadr
        held = np.where(np.isnan(self.applied_q_target), q_target, self.applied_q_target)
        for i, (m, d) in enumerate(zip(self.models, self.datas, strict=True)):
            for sub in range(self.substeps):
                qt = held[i] if sub < self.delay_substeps[i] else q_target[i]  # a late command: the old targets hold
                tau = kp * (qt - d.qpos[qa]) - kd * d.qvel[da]
                np.clip(tau, -lim, lim, out=tau)
                d.ctrl[:] = tau
                mujoco.mj_step(m, d)
            self.tau[i] = tau
        self.applied_q_target = q_target.copy()
        self.t += 1

        s = self._read()
        gravity = projected_gravity(s["base_quat"])
        tilt = tilt_from_gravity(gravity)
        fallen = is_fallen(tilt, s["height"]) | ~np.all(np.isfinite(s["q"]), axis=1)
        view = StepView(
            gravity=gravity,
            tilt=tilt,
            height=s["height"],
            q=s["q"],
            qd=s["qd"],
            tau=self.tau,
            action=self.action,
            last_action=self.last_action,
            feet_shift=np.linalg.norm(s["feet"] - self.feet_xy0, axis=2),
            fallen=fallen,
            stance_q=self.stance_q,
            controlled_idx=self.io.controlled_idx,
            base_height=self.spec.base_height,
        )
        terms = {r.name: r.weight * r.fn(view, **r.params) for r in self.cfg.rewards}
        reward = np.nan_to_num(sum(terms.values()), nan=-10.0)
        self.ep_return += reward
        self.last_action = self.action.copy()
        obs, priv = self._obs(s)

        terminated = fallen
        truncated = (self.t >= self.max_steps) & ~terminated
        info: dict = {"reward_terms": {k: float(np.mean(v)) for k, v in terms.items()}, "tilt": tilt, "episodes": []}
        info["final_obs"], info["final_priv"] = obs.copy(), priv.copy()
        done = np.flatnonzero(terminated | truncated)
        for i in done:
            info["episodes"].append({"return": float(self.ep_return[i]), "length": int(self.t[i]), "fell": bool(terminated[i])})
            self._reset_env(int(i))
        if done.size:
            obs2, priv2 = self._obs(self._read())
            obs[done], priv[done] = obs2[done], priv2[done]
        return obs, priv, reward, terminated, truncated, info


def _rotate_inv(quat_wxyz: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Express a world-frame vector in the frame of orientation `quat_wxyz`."""
    out = np.empty(3)
    neg = np.empty(4)
    mujoco.mju_negQuat(neg, quat_wxyz)
    mujoco.mju_rotVecQuat(out, v, neg)
    return out
