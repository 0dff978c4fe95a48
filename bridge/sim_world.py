"""The MuJoCo world served as a robot: physics, PD at the joints, watchdog, perception stand-in.

`SimWorld` is transport-free: `step(cmd)` applies one `JointCommand` for one control period
and returns the `RobotState` a real robot driver would report; `observe()` returns the
`WorldObservation` a perception module would send. `bridge/sim_server.py` serves it over
ZeroMQ; tests and the training code may drive it directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import mujoco
import numpy as np

from bridge.appliances import Appliances
from bridge.messages import JointCommand, ObjectObservation, RobotState, WorldObservation, check_lengths
from scenarios.world import PLACE_PREFIX, World

KETTLE_SWITCH_REACH_M = 0.02


@dataclass(frozen=True)
class WatchdogConfig:
    """Commands older than `hold_after_s` make the robot hold its last targets; older than
    `damp_after_s` it goes limp with damping only, so a dead controller cannot drive it."""

    hold_after_s: float = 0.06  # three control periods at 50 Hz
    damp_after_s: float = 0.5
    damp_kd: float = 4.0


class SimWorld:
    def __init__(
        self,
        world: World,
        seed: int = 0,
        robot_xy_yaw: tuple[float, float, float] | None = None,  # None: the world's start pose
        watchdog: WatchdogConfig = WatchdogConfig(),
    ) -> None:
        self.world = world
        self.spec = world.robot
        self.model = world.model
        self.data = world.initial_data(robot_xy_yaw)
        self.rng = np.random.default_rng(seed)
        self.watchdog = watchdog
        self.appliances = Appliances(self.model)
        self._seq = 0
        self._obs_seq = 0
        self._last_cmd: JointCommand | None = None
        self._last_cmd_time = 0.0
        self._hold_q = self.spec.default_q.copy()  # until a first command: hold the default pose
        self.watchdog_mode = "ok"
        self.estopped = False
        self._tau = np.zeros(self.spec.n_joints)
        self._push: tuple[int, np.ndarray, float] | None = None  # body id, force, until
        # Scenario hooks on what perception reports (e.g. noise, bridge/perturbations.py).
        self.observation_filters: list[Callable[[WorldObservation], WorldObservation]] = []
        m = self.model
        self._gyro_adr = m.sensor_adr[m.sensor("imu_gyro").id]
        self._vel_adr = m.sensor_adr[m.sensor("imu_vel").id]
        self._foot_geoms = [m.geom(self.spec.feet[s]).id for s in ("left", "right")]
        self._floor = m.geom("floor").id
        self._finger_geoms = {
            side: {m.geom(j).id for j in self.spec.joint_groups[ee.gripper]}
            for side, ee in self.spec.end_effectors.items()
        }
        self._tip_sites = [m.site(ee.tip_site).id for ee in self.spec.end_effectors.values()]
        self._kettle_switch = m.geom("kettle_switch").id if "kettle" in world.objects else None
        self._switch_touched = False
        self._body_of = {oid: m.body(oid).id for oid in world.objects if mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, oid) >= 0}

    @property
    def sim_time(self) -> float:
        return float(self.data.time)

    # --- robot interface -------------------------------------------------------------------
    def step(self, cmd: JointCommand | None) -> RobotState:
        """Advance one control period. `cmd=None` means no fresh command arrived (watchdog ticks)."""
        if cmd is not None:
            check_lengths(cmd, self.spec.n_joints)
            self._last_cmd = cmd
            self._last_cmd_time = self.sim_time
        q_t, kp, kd = self._targets()
        qa, da = self.world.robot_qpos_adr, self.world.robot_dof_adr
        for _ in range(self.spec.substeps):
            q, qd = self.data.qpos[qa], self.data.qvel[da]
            tau = kp * (q_t - q) - kd * qd
            np.clip(tau, -self.spec.torque_limit, self.spec.torque_limit, out=tau)
            self.data.ctrl[:] = tau
            self._apply_push()
            mujoco.mj_step(self.model, self.data)
            self.appliances.update(self.data)
        self._tau = tau
        self._check_kettle_switch()
        return self.state()

    def estop(self) -> None:
        """Emergency stop on the robot side: damp every joint from now on, whatever is commanded."""
        self.estopped = True

    def _targets(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        spec = self.spec
        if self.estopped:
            self.watchdog_mode = "estop"
            return self._hold_q, np.zeros_like(spec.kp), np.full_like(spec.kd, self.watchdog.damp_kd)
        if self._last_cmd is None:
            return self._hold_q, spec.kp, spec.kd
        age = self.sim_time - self._last_cmd_time
        stale = self.sim_time - self._last_cmd.stamp
        age = max(age, stale)
        if age <= self.watchdog.hold_after_s:
            self.watchdog_mode = "ok"
            self._hold_q = self._last_cmd.q_target
            return self._last_cmd.q_target, self._last_cmd.kp, self._last_cmd.kd
        if age <= self.watchdog.damp_after_s:
            self.watchdog_mode = "hold"
            return self._hold_q, spec.kp, spec.kd
        self.watchdog_mode = "damp"
        return self._hold_q, np.zeros_like(spec.kp), np.full_like(spec.kd, self.watchdog.damp_kd)

    def state(self) -> RobotState:
        d, w = self.data, self.world
        a = w.root_qpos_adr
        self._seq += 1
        return RobotState(
            seq=self._seq,
            sim_time=self.sim_time,
            q=d.qpos[w.robot_qpos_adr].copy(),
            qd=d.qvel[w.robot_dof_adr].copy(),
            tau=self._tau.copy(),
            base_pos=d.qpos[a : a + 3].copy(),
            base_quat=d.qpos[a + 3 : a + 7].copy(),
            base_linvel=d.sensordata[self._vel_adr : self._vel_adr + 3].copy(),
            base_angvel=d.sensordata[self._gyro_adr : self._gyro_adr + 3].copy(),
            foot_contact=self._foot_contacts(),
            wall_time=time.time(),
            watchdog=self.watchdog_mode,
        )

    def _foot_contacts(self) -> np.ndarray:
        out = np.zeros(2)
        for c in self.data.contact[: self.data.ncon]:
            for i, g in enumerate(self._foot_geoms):
                if g in (c.geom1, c.geom2):
                    out[i] = 1.0
        return out

    # --- perturbations (scenarios) -------------------------------------------------------
    def push(self, body: str, force: tuple[float, float, float], duration_s: float) -> None:
        """Apply a world-frame force to a body for `duration_s` of sim time."""
        f = np.asarray(force, dtype=float)
        if f.shape != (3,) or not np.all(np.isfinite(f)) or not 0.0 <= duration_s <= 10.0:
            raise ValueError(f"a push needs a finite 3-vector force and 0..10 s, got {force!r} for {duration_s!r} s")
        self._push = (self.model.body(body).id, f, self.sim_time + duration_s)

    def _apply_push(self) -> None:
        self.data.xfrc_applied[:] = 0.0
        if self._push is not None:
            bid, f, until = self._push
            if self.sim_time < until:
                self.data.xfrc_applied[bid, :3] = f
            else:
                self._push = None

    def _check_kettle_switch(self) -> None:
        if self._kettle_switch is None:
            return
        p = self.data.geom_xpos[self._kettle_switch]
        touched = any(np.linalg.norm(self.data.site_xpos[s] - p) < KETTLE_SWITCH_REACH_M for s in self._tip_sites)
        if touched and not self._switch_touched:
            self.appliances.press_kettle_switch(self.sim_time)
        self._switch_touched = touched

    # --- perception stand-in -------------------------------------------------------------
    def held_by(self) -> dict[str, str]:
        """Objects squeezed by both fingers of one hand: tactile sensing, as a real gripper has."""
        touching: dict[tuple[str, int], set[int]] = {}
        geom_body = self.model.geom_bodyid
        for c in self.data.contact[: self.data.ncon]:
            for side, fingers in self._finger_geoms.items():
                for g_f, g_o in ((c.geom1, c.geom2), (c.geom2, c.geom1)):
                    if g_f in fingers:
                        touching.setdefault((side, int(geom_body[g_o])), set()).add(g_f)
        body_to_id = {b: oid for oid, b in self._body_of.items()}
        out = {}
        for (side, body), fingers in touching.items():
            if len(fingers) == 2 and body in body_to_id:
                out[body_to_id[body]] = side
        return out

    def observe(self) -> WorldObservation:
        m, d = self.model, self.data
        held = self.held_by()
        objects = []
        for oid, info in self.world.objects.items():
            attrs: dict = {"kind": info.kind}
            if oid in self._body_of:
                b = self._body_of[oid]
                pos, quat = d.xpos[b].tolist(), d.xquat[b].tolist()
            else:
                pos, quat = None, [1.0, 0.0, 0.0, 0.0]
            site = PLACE_PREFIX + oid
            if mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SITE, site) >= 0:
                sid = m.site(site).id
                attrs["region"] = {"center": d.site_xpos[sid].tolist(), "half_size": m.site_size[sid].tolist()}
                pos = pos or d.site_xpos[sid].tolist()
            if oid in self.appliances.powered:
                attrs["powered"] = self.appliances.powered[oid]
                attrs["busy"] = self.appliances.busy(oid)
            if info.kind == "mug":
                attrs["contains"] = self.appliances.mug_content(oid)
            if oid in ("kettle", "instant_coffee"):
                attrs["contents"] = sorted(self.appliances.contents.get(oid, ()))
            if oid == "cupboard":
                attrs["open"] = bool(d.joint("cupboard_door").qpos[0] < -0.8)
            if oid == "drawer":
                attrs["open"] = bool(d.joint("drawer").qpos[0] > 0.2)
            if oid in held:
                attrs["in_hand"] = held[oid]
            objects.append(ObjectObservation(id=oid, pos=list(pos), quat=list(quat), attrs=attrs))
        # The person the robot serves is a place, not a body: report its serving spot.
        if "user" in self.world.places:
            sid = m.site(PLACE_PREFIX + "user").id
            objects.append(
                ObjectObservation(
                    id="user",
                    pos=d.site_xpos[sid].tolist(),
                    quat=[1.0, 0.0, 0.0, 0.0],
                    attrs={"kind": "place", "region": {"center": d.site_xpos[sid].tolist(), "half_size": m.site_size[sid].tolist()}},
                )
            )
        self._obs_seq += 1
        obs = WorldObservation(seq=self._obs_seq, sim_time=self.sim_time, objects=objects)
        for f in self.observation_filters:
            obs = f(obs)
        return obs
