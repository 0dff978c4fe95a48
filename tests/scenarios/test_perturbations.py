"""World perturbations and link faults are small seeded functions: same seed, same world."""

from __future__ import annotations

import numpy as np
import pytest

from bridge.messages import JointCommand, Reply, decode
from bridge.perturbations import (
    FaultyLink,
    LinkFaults,
    PerturbationSchedule,
    move_object,
    randomize,
    remove_object,
)
from bridge.sim_world import SimWorld
from humanoid.robot_spec import load_robot_spec
from scenarios.world import build_world


@pytest.fixture(scope="module")
def world():
    return build_world("kitchen", load_robot_spec("reference_humanoid"))


def _pos(sim: SimWorld, obj: str) -> np.ndarray:
    return sim.data.body(obj).xpos.copy()


def test_randomisation_is_seeded(world):
    terms = {"object_poses": {"objects": {"mug_blue": 0.02}}, "mass": {"scale": [0.8, 1.2]}}
    a, b, c = (SimWorld(world, seed=s) for s in (1, 1, 2))
    for sim, seed in ((a, 1), (b, 1), (c, 2)):
        randomize(sim, terms, seed)
    assert np.array_equal(_pos(a, "mug_blue"), _pos(b, "mug_blue"))
    assert not np.array_equal(_pos(a, "mug_blue"), _pos(c, "mug_blue"))
    assert np.linalg.norm(_pos(a, "mug_blue")[:2] - np.array([0.38, 0.10])) <= 0.02 + 1e-9


def test_schedule_fires_at_its_sim_time(world):
    sim = SimWorld(world)
    schedule = PerturbationSchedule()
    schedule.add(0.04, "move_object", {"obj": "mug_red", "xy": [0.44, -0.15]})
    schedule.add(0.0, "switch", {"appliance": "coffee_machine", "power_on": False})
    for _ in range(3):
        schedule.fire_due(sim)
        sim.step(None)
    assert [f["kind"] for f in schedule.fired] == ["switch", "move_object"]
    assert sim.appliances.powered["coffee_machine"] is False
    assert abs(_pos(sim, "mug_red")[1] + 0.15) < 0.01


def test_a_bad_event_is_reported_not_fatal(world):
    sim = SimWorld(world)
    schedule = PerturbationSchedule()
    schedule.add(0.0, "move_object", {"obj": "close_counter", "xy": [0, 0]})
    schedule.fire_due(sim)
    assert "fixed in the scene" in schedule.fired[0]["detail"]


def test_move_and_remove(world):
    sim = SimWorld(world)
    move_object(sim, "mug_blue", (0.40, 0.2))
    assert np.allclose(_pos(sim, "mug_blue")[:2], (0.40, 0.2))
    remove_object(sim, "mug_blue")
    assert _pos(sim, "mug_blue")[0] > 5


class _Rpc:
    def __init__(self, sim: SimWorld) -> None:
        self.sim = sim
        self.raw: list[bytes] = []

    def call_raw(self, payload: bytes) -> bytes:
        from bridge.messages import MessageError, encode

        try:
            decode(payload)
        except MessageError as exc:
            return encode(Reply(ok=False, error=str(exc)))
        raise AssertionError("a corrupted message decoded")


class _Link:
    """A lockstep link straight into a SimWorld, remembering what it was given."""

    def __init__(self, sim: SimWorld) -> None:
        self.sim = sim
        self.rpc = _Rpc(sim)
        self.given: list[float] = []

    def step(self, cmd: JointCommand):
        self.given.append(cmd.stamp)
        return self.sim.step(cmd)


def _cmd(spec, t: float) -> JointCommand:
    return JointCommand(
        seq=int(t * 50), stamp=t, q_target=spec.default_q.copy(), kp=spec.kp.copy(), kd=spec.kd.copy()
    )


def test_link_faults_drop_delay_and_corrupt(world):
    spec = world.robot
    link = _Link(SimWorld(world))
    faulty = FaultyLink(link, LinkFaults(drop_rate=0.2, corrupt_rate=0.1, delay_periods=1, seed=3))
    for i in range(200):
        faulty.step(_cmd(spec, i * 0.02))
    assert faulty.counts["dropped"] > 10 and faulty.counts["corrupted"] > 5
    assert faulty.counts["rejected_by_robot"] == faulty.counts["corrupted"]
    # delayed by one period, and a lost command leaves the robot with the last one it got
    assert link.given[1] == 0.0 and max(link.given) <= 198 * 0.02
    again = _Link(SimWorld(world))
    faulty2 = FaultyLink(again, LinkFaults(drop_rate=0.2, corrupt_rate=0.1, delay_periods=1, seed=3))
    for i in range(200):
        faulty2.step(_cmd(spec, i * 0.02))
    assert again.given == link.given
