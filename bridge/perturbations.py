"""Perturbations of the simulated world and of the bridge, for scenarios (Isaac Lab-style events).

Each perturbation is one small named function with parameters; a scenario lists them as data
and nothing here is an `if` chain in a step loop:

- startup randomisation (`RANDOMIZERS`): applied once to a fresh `SimWorld`, drawn from the
  run's seed: object poses, friction, masses;
- world events (`WORLD_EVENTS`): push a body, move or remove an object, switch an appliance,
  noisy perception; fired by `PerturbationSchedule` at a sim time, or sent by the run when a
  planner event happens (`perturb` request to the simulator);
- link faults (`FaultyLink`): drop, delay or corrupt the control loop's messages to the robot;
  they live in the transport between control and sim, where real losses happen.

All randomness comes from generators seeded by the run's seed, so a perturbed run is as
reproducible as a clean one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import mujoco
import numpy as np

from bridge.messages import JointCommand, ObjectObservation, StepRequest, WorldObservation, encode
from bridge.sim_world import SimWorld

log = logging.getLogger("bridge.perturbations")

# Where a "removed" object goes mid-run: off the kitchen, on the floor, out of every place.
REMOVED_XY = (6.0, 6.0)


def _free_qpos_adr(sim: SimWorld, obj: str) -> tuple[int, int]:
    """qpos and qvel addresses of an object's free joint; a clear error for a fixed body."""
    m = sim.model
    bid = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, obj)
    if bid < 0:
        raise KeyError(f"no object '{obj}' in the scene")
    jnt = m.body_jntadr[bid]
    if jnt < 0 or m.jnt_type[jnt] != mujoco.mjtJoint.mjJNT_FREE:
        raise ValueError(f"'{obj}' is fixed in the scene; only free objects can be moved")
    return int(m.jnt_qposadr[jnt]), int(m.jnt_dofadr[jnt])


def _body_id(sim: SimWorld, body: str) -> int:
    # "robot" names the robot's root body, so a scenario needs no robot-specific names.
    name = sim.spec.root_body if body == "robot" else body
    bid = mujoco.mj_name2id(sim.model, mujoco.mjtObj.mjOBJ_BODY, name)
    if bid < 0:
        raise KeyError(f"no body '{body}' in the scene")
    return bid


# --- world events ---------------------------------------------------------------------------
def push(
    sim: SimWorld,
    body: str = "robot",
    force: tuple[float, float, float] = (0.0, 0.0, 0.0),
    duration_s: float = 0.1,
) -> str:
    """A shove: a world-frame force (N) on a body for `duration_s` of sim time."""
    _body_id(sim, body)
    sim.push(
        sim.spec.root_body if body == "robot" else body, tuple(float(f) for f in force), float(duration_s)
    )
    return f"pushed {body} with {list(force)} N for {duration_s} s"


def move_object(sim: SimWorld, obj: str, xy: tuple[float, float], z: float | None = None) -> str:
    """Teleport a free object to (x, y[, z]) at rest, as if a person moved it."""
    qa, da = _free_qpos_adr(sim, obj)
    d = sim.data
    d.qpos[qa : qa + 2] = xy
    if z is not None:
        d.qpos[qa + 2] = z
    d.qvel[da : da + 6] = 0.0
    mujoco.mj_forward(sim.model, d)
    return f"moved {obj} to {list(d.qpos[qa : qa + 3].round(3))}"


def remove_object(sim: SimWorld, obj: str) -> str:
    """Take a free object away mid-run (it lands on the floor far from the kitchen)."""
    qa, da = _free_qpos_adr(sim, obj)
    sim.data.qpos[qa : qa + 3] = (*REMOVED_XY, 0.1)
    sim.data.qvel[da : da + 6] = 0.0
    mujoco.mj_forward(sim.model, sim.data)
    return f"removed {obj}"


def switch(sim: SimWorld, appliance: str, power_on: bool = False) -> str:
    """Switch an appliance on or off (a power cut, a person pressing its switch)."""
    sim.appliances.switch(appliance, bool(power_on))
    return f"switched {appliance} {'on' if power_on else 'off'}"


def sensor_noise(sim: SimWorld, position_std_m: float = 0.005, seed: int = 0) -> str:
    """Gaussian noise on every object position perception reports, from now on."""
    rng = np.random.default_rng(seed)

    def noisy(obs: WorldObservation) -> WorldObservation:
        objects = [
            ObjectObservation(
                o.id, list(np.asarray(o.pos) + rng.normal(0.0, position_std_m, 3)), o.quat, o.attrs
            )
            if "region" not in o.attrs  # places are known from the map, not sensed
            else o
            for o in obs.objects
        ]
        return WorldObservation(seq=obs.seq, sim_time=obs.sim_time, objects=objects)

    sim.observation_filters.append(noisy)
    return f"perception noise {position_std_m} m on object positions"


WORLD_EVENTS: dict[str, Callable[..., str]] = {
    "push": push,
    "move_object": move_object,
    "remove_object": remove_object,
    "switch": switch,
    "sensor_noise": sensor_noise,
}


# --- startup randomisation ------------------------------------------------------------------
def object_poses(sim: SimWorld, rng: np.random.Generator, objects: dict[str, float]) -> str:
    """Shift each named object's xy uniformly within a disc of the given radius (m)."""
    moved = []
    for obj, radius in sorted(objects.items()):
        qa, _ = _free_qpos_adr(sim, obj)
        r, a = radius * np.sqrt(rng.random()), rng.uniform(0, 2 * np.pi)
        sim.data.qpos[qa : qa + 2] += (r * np.cos(a), r * np.sin(a))
        moved.append(f"{obj} by {r * 100:.1f} cm")
    mujoco.mj_forward(sim.model, sim.data)
    return "shifted " + ", ".join(moved)


def friction(
    sim: SimWorld, rng: np.random.Generator, scale: tuple[float, float], objects: list[str] | None = None
) -> str:
    """Scale the sliding friction of the named objects' geoms (default: every free object)."""
    m = sim.model
    names = objects if objects is not None else _free_objects(sim)
    for obj in names:
        s = rng.uniform(*scale)
        bid = _body_id(sim, obj)
        m.geom_friction[m.geom_bodyid == bid, 0] *= s
    return f"friction x U{list(scale)} on {len(names)} objects"


def mass(
    sim: SimWorld, rng: np.random.Generator, scale: tuple[float, float], objects: list[str] | None = None
) -> str:
    """Scale the named objects' masses and inertias (default: every free object)."""
    m = sim.model
    names = objects if objects is not None else _free_objects(sim)
    for obj in names:
        s = rng.uniform(*scale)
        bid = _body_id(sim, obj)
        m.body_mass[bid] *= s
        m.body_inertia[bid] *= s
    # derived constants (subtree masses) from a scratch MjData: mj_setConst resets the qpos it is given
    mujoco.mj_setConst(m, mujoco.MjData(m))
    return f"mass x U{list(scale)} on {len(names)} objects"


def _free_objects(sim: SimWorld) -> list[str]:
    m = sim.model
    return sorted(
        oid
        for oid in sim.world.objects
        if (b := mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, oid)) >= 0
        and m.body_jntadr[b] >= 0
        and m.jnt_type[m.body_jntadr[b]] == mujoco.mjtJoint.mjJNT_FREE
    )


RANDOMIZERS: dict[str, Callable[..., str]] = {
    "object_poses": object_poses,
    "friction": friction,
    "mass": mass,
}


def randomize(sim: SimWorld, terms: dict[str, dict[str, Any]], seed: int) -> list[str]:
    """Apply startup randomisation terms in a fixed order, each from its own seeded stream."""
    out = []
    for i, name in enumerate(sorted(terms)):
        rng = np.random.default_rng([seed, i])  # one stream per term: adding a term moves no other
        out.append(RANDOMIZERS[name](sim, rng, **terms[name]))
    return out


# --- the schedule the simulator fires ------------------------------------------------------
@dataclass
class ScheduledEvent:
    at_s: float
    kind: str
    params: dict[str, Any]


@dataclass
class PerturbationSchedule:
    """World events due at sim times; `fire_due` runs once per control period in the simulator."""

    pending: list[ScheduledEvent] = field(default_factory=list)
    fired: list[dict[str, Any]] = field(default_factory=list)

    def add(self, at_s: float, kind: str, params: dict[str, Any]) -> None:
        if kind not in WORLD_EVENTS:
            raise KeyError(f"unknown perturbation '{kind}'; known: {sorted(WORLD_EVENTS)}")
        self.pending.append(ScheduledEvent(float(at_s), kind, dict(params)))
        self.pending.sort(key=lambda e: e.at_s)

    def fire_due(self, sim: SimWorld) -> None:
        while self.pending and sim.sim_time >= self.pending[0].at_s:
            ev = self.pending.pop(0)
            try:
                what = WORLD_EVENTS[ev.kind](sim, **ev.params)
            except (KeyError, ValueError, TypeError) as exc:
                what = f"failed: {exc}"  # a bad perturbation is reported, never kills the robot
            self.fired.append(
                {"sim_time": sim.sim_time, "kind": ev.kind, "params": ev.params, "detail": what}
            )
            log.info("perturbation at %.2f s: %s", sim.sim_time, what)


# --- link faults (control side) ------------------------------------------------------------
@dataclass(frozen=True)
class LinkFaults:
    """What the link to the robot does wrong: each period's command may be lost, late or garbled."""

    drop_rate: float = 0.0
    delay_periods: int = 0
    corrupt_rate: float = 0.0
    seed: int = 0


class FaultyLink:
    """Wraps a lockstep robot link (`step`, `state`, `observe`, ...) and injects `LinkFaults`.

    Lockstep needs one step per period, so a lost command is modelled as the robot receiving
    nothing new: the simulator gets the last delivered command again, stamp and all, and its
    watchdog judges it by age exactly as it would a silent link. A corrupted command is sent
    as truncated bytes: the simulator must reject it (and count it), and the period then
    passes as a lost one. A delayed command arrives `delay_periods` periods late.
    """

    def __init__(self, link: Any, faults: LinkFaults) -> None:
        self.link = link
        self.faults = faults
        self.rng = np.random.default_rng(faults.seed)
        self._queue: list[JointCommand] = []
        self._delivered: JointCommand | None = None
        self.counts = {"sent": 0, "dropped": 0, "corrupted": 0, "rejected_by_robot": 0}

    def step(self, cmd: JointCommand | None):
        self.counts["sent"] += 1
        if cmd is not None:
            self._queue.append(cmd)
        due = self._queue.pop(0) if len(self._queue) > self.faults.delay_periods else None
        if due is not None and self._delivered is not None:
            if self.rng.random() < self.faults.drop_rate:
                self.counts["dropped"] += 1
                due = None
            elif self.rng.random() < self.faults.corrupt_rate:
                self.counts["corrupted"] += 1
                self._send_corrupted(due)
                due = None
        if due is not None:
            self._delivered = due
        return self.link.step(self._delivered if self._delivered is not None else cmd)

    def _send_corrupted(self, cmd: JointCommand) -> None:
        raw = encode(StepRequest(command=cmd))
        reply = self.link.rpc.call_raw(raw[: len(raw) // 2])
        from bridge.messages import Reply, decode

        answer = decode(reply)
        if isinstance(answer, Reply) and not answer.ok:
            self.counts["rejected_by_robot"] += 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self.link, name)
