"""The simulated robot: PD at the joints, the watchdog, appliances, the perception stand-in."""

from __future__ import annotations

import numpy as np
import pytest

from bridge.messages import JointCommand
from bridge.sim_world import SimWorld
from scenarios.world import build_world


def _hold(sim: SimWorld, seq: int) -> JointCommand:
    s = sim.spec
    return JointCommand(seq=seq, stamp=sim.sim_time, q_target=s.default_q, kp=s.kp, kd=s.kd)


def test_robot_stands_under_default_pose_commands(kitchen):
    sim = SimWorld(kitchen)
    for i in range(100):
        state = sim.step(_hold(sim, i))
    assert state.base_pos[2] > 0.7
    assert state.foot_contact.tolist() == [1.0, 1.0]
    assert state.watchdog == "ok"
    assert state.sim_time == pytest.approx(2.0)


def test_watchdog_holds_then_damps_when_commands_stop(kitchen):
    sim = SimWorld(kitchen)
    for i in range(10):
        sim.step(_hold(sim, i))
    modes = [sim.step(None).watchdog for _ in range(30)]
    assert modes[0] == "ok"  # within three periods of the last command
    assert "hold" in modes[:20]
    assert modes[-1] == "damp"  # after 0.5 s of silence the robot goes limp


def test_stale_command_trips_the_watchdog(kitchen):
    sim = SimWorld(kitchen)
    for i in range(30):
        sim.step(_hold(sim, i))
    old = JointCommand(seq=99, stamp=0.0, q_target=sim.spec.default_q, kp=sim.spec.kp, kd=sim.spec.kd)
    assert sim.step(old).watchdog in ("hold", "damp")


def test_same_seed_same_commands_same_state(kitchen):
    a, b = SimWorld(kitchen, seed=3), SimWorld(kitchen, seed=3)
    for i in range(50):
        sa, sb = a.step(_hold(a, i)), b.step(_hold(b, i))
    np.testing.assert_array_equal(sa.q, sb.q)
    np.testing.assert_array_equal(sa.base_pos, sb.base_pos)


def _put_mug_in_slot_and_press(sim: SimWorld, mug: str = "mug_red") -> None:
    m, d = sim.model, sim.data
    slot = d.site("coffee_machine_slot").xpos
    adr = m.jnt_qposadr[m.joint(mug).id]
    d.qpos[adr : adr + 3] = (slot[0], slot[1], 0.772)
    for i in range(10):
        sim.step(_hold(sim, i))
    d.qpos[m.jnt_qposadr[m.joint("coffee_machine_button").id]] = 0.011  # finger pushed it in
    for i in range(100):
        sim.step(_hold(sim, 10 + i))


def test_coffee_machine_fills_the_mug_in_its_slot(kitchen):
    sim = SimWorld(kitchen)
    assert sim.observe().by_id()["mug_red"].attrs["contains"] is None
    _put_mug_in_slot_and_press(sim)
    obs = sim.observe().by_id()
    assert obs["mug_red"].attrs["contains"] == "coffee"
    assert obs["mug_blue"].attrs["contains"] is None
    assert any(e["event"] == "filled mug_red" for e in sim.appliances.events)


def test_switched_off_machine_does_not_brew(kitchen):
    sim = SimWorld(kitchen)
    sim.appliances.switch("coffee_machine", False)
    _put_mug_in_slot_and_press(sim)
    assert sim.observe().by_id()["mug_red"].attrs["contains"] is None
    assert sim.observe().by_id()["coffee_machine"].attrs["powered"] is False


def test_observation_reports_places_and_the_user(kitchen):
    obs = SimWorld(kitchen).observe().by_id()
    assert obs["user"].attrs["region"]["half_size"] == pytest.approx([0.07, 0.07, 0.1])
    assert "region" in obs["close_counter"].attrs
    assert obs["cupboard"].attrs["open"] is False
    assert set(kitchen.objects) <= set(obs)


def test_removed_appliance_is_not_observed(spec):
    world = build_world("kitchen", spec, remove=("coffee_machine",))
    obs = SimWorld(world).observe().by_id()
    assert "coffee_machine" not in obs and "mug_red" in obs


def test_removing_an_unknown_object_is_a_clear_error(spec):
    from scenarios.world import SceneError

    with pytest.raises(SceneError, match="cannot remove 'pizza_oven'"):
        build_world("kitchen", spec, remove=("pizza_oven",))


def test_push_moves_the_robot(kitchen):
    sim = SimWorld(kitchen)
    sim.push("pelvis", (400.0, 0.0, 0.0), 0.1)
    for i in range(10):
        state = sim.step(_hold(sim, i))
    assert state.base_linvel[0] > 0.1 or state.base_pos[0] > 0.005
