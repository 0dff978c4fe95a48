"""The control loop with the shipped policy: arms follow references, the robot stays up,
a fall ends the request, and the control process survives bad messages."""

from __future__ import annotations

import numpy as np
import pytest

from bridge.messages import MotionRequest, Reply, decode
from bridge.sim_world import SimWorld
from control.loop import ControlLoop, HoldController, PolicyLegController


def _reach_request(spec, seq: int = 1) -> MotionRequest:
    arm = spec.indices(("left_arm", "right_arm"))
    q0 = spec.default_q[arm]
    q1 = q0.copy()
    q1[1] = 1.2  # left arm out to the side (forward and low would hit the counter)
    q1[0] = -0.5
    return MotionRequest(
        seq=seq, times=np.array([0.0, 1.0]), arm_q=np.stack([q0, q1]), gripper=np.array([[0.0, 0.0], [1.0, 1.0]]), settle_s=1.0
    )


def test_policy_keeps_balance_while_the_arm_reaches(kitchen, spec):
    sim = SimWorld(kitchen)
    loop = ControlLoop(spec, sim, PolicyLegController(spec))
    res = loop.execute(_reach_request(spec))
    assert res.status == "ok", res.detail
    assert res.state.sim_time == pytest.approx(2.0)
    assert res.state.base_pos[2] > 0.7
    arm = spec.indices("left_arm")
    assert abs(res.state.q[arm[1]] - 1.2) < 0.1  # the shoulder followed its reference
    assert res.telemetry and max(t["policy_latency_us"] for t in res.telemetry) > 0


def test_a_push_that_fells_the_pd_baseline_does_not_fell_the_policy(kitchen, spec):
    outcomes = {}
    for name, legs in (("hold", HoldController(spec)), ("policy", PolicyLegController(spec))):
        sim = SimWorld(kitchen, seed=0)
        loop = ControlLoop(spec, sim, legs)
        loop.execute(MotionRequest(seq=1, times=np.zeros(0), arm_q=np.zeros((0, 14)), gripper=np.zeros((0, 2)), settle_s=0.5))
        sim.push("torso", (-45.0, 0.0, 0.0), 0.2)  # backwards, into the open room
        outcomes[name] = loop.execute(MotionRequest(seq=2, times=np.zeros(0), arm_q=np.zeros((0, 14)), gripper=np.zeros((0, 2)), settle_s=3.0))
    assert outcomes["policy"].status == "ok", outcomes["policy"].detail
    assert outcomes["hold"].status == "fallen"  # the baseline: PD alone cannot take it
    assert any(e["kind"] == "fall" for e in outcomes["hold"].safety_events)


def test_after_a_fall_requests_are_refused(kitchen, spec):
    sim = SimWorld(kitchen)
    loop = ControlLoop(spec, sim, HoldController(spec))
    sim.push("torso", (-400.0, 0.0, 0.0), 0.3)
    first = loop.execute(MotionRequest(seq=1, times=np.zeros(0), arm_q=np.zeros((0, 14)), gripper=np.zeros((0, 2)), settle_s=3.0))
    assert first.status == "fallen" and "fall detected" in first.detail
    again = loop.execute(_reach_request(spec, seq=2))
    assert again.status == "fallen" and "needs a reset" in again.detail
    loop.tick()  # a realtime loop keeps ticking while idle: the fallen robot is only damped
    assert not loop.last_command.kp.any() and loop.last_command.kd.all()


@pytest.mark.parametrize(
    ("times", "arm_q", "gripper", "settle", "expected"),
    [
        ([0.0, 1.0], (2, 5), (2, 2), 0.0, "arm_q must be"),
        ([0.0, 1.0], (2, 14), (2, 1), 0.0, "gripper must be"),
        ([0.0, 1.0], (2, 14), (1, 2), 0.0, "gripper must be"),
        ([1.0, 0.0], (2, 14), (2, 2), 0.0, "must not decrease"),
        ([0.0, 1.0], (2, 14), (2, 2), 1e6, "may last"),
        ([0.0, 1.0], (2, 14), (2, 2), -1.0, "may last"),
    ],
)
def test_malformed_request_is_rejected_not_executed(kitchen, spec, times, arm_q, gripper, settle, expected):
    loop = ControlLoop(spec, SimWorld(kitchen), HoldController(spec))
    bad = MotionRequest(seq=1, times=np.array(times), arm_q=np.zeros(arm_q), gripper=np.zeros(gripper), settle_s=settle)
    res = loop.execute(bad)
    assert res.status == "rejected" and expected in res.detail
    assert res.state.sim_time == 0.0  # nothing moved


def test_control_process_drops_garbage_and_keeps_serving(tmp_path):
    from bridge.control_client import ControlClient
    from bridge.sim_client import LockstepSimClient
    from bridge.transport import RpcClient
    from humanoid.launch import start_child, wait_until

    sim_ep, ctl_ep = f"ipc://{tmp_path}/sim", f"ipc://{tmp_path}/ctl"
    sim = start_child("simulator", "bridge.sim_server", ["--endpoint", sim_ep], tmp_path)
    ctl = start_child("control", "control.service", ["--sim", sim_ep, "--endpoint", ctl_ep], tmp_path)
    client = ControlClient(ctl_ep, timeout_s=2.0)
    try:
        probe = LockstepSimClient(sim_ep, timeout_s=1.0)
        wait_until(lambda: probe.request("ping").ok, 60, [sim], "starting the simulator")
        wait_until(lambda: ControlClient(ctl_ep, timeout_s=1.0).info()["leg_controller"] == "policy:stand+policy:walk", 60, [sim, ctl], "starting control")
        raw = RpcClient(ctl_ep, "control", 2.0)
        reply = decode(raw.call_raw(b"\xde\xad\xbe\xef"))
        assert isinstance(reply, Reply) and not reply.ok and "malformed message dropped" in reply.error
        assert client.observe().by_id()["mug_blue"].attrs["contains"] is None
        assert ctl.alive()
        client.shutdown()
        probe.request("shutdown")
    finally:
        client.close()
        ctl.stop()
        sim.stop()


def test_estop_acts_mid_request_damps_and_latches(kitchen, spec):
    presses = iter([False] * 20 + [True])
    sim = SimWorld(kitchen)
    loop = ControlLoop(spec, sim, PolicyLegController(spec), estop_pending=lambda: next(presses, True))
    res = loop.execute(_reach_request(spec))
    assert res.status == "safety_stop" and "e-stop" in res.detail
    assert res.state.sim_time == pytest.approx(0.42)  # stopped in the period it was pressed, not at the end
    assert any(e["kind"] == "estop" for e in res.safety_events)
    assert not loop.last_command.kp.any()
    again = loop.execute(_reach_request(spec, seq=2))
    assert again.status == "safety_stop" and "e-stop is engaged" in again.detail


def test_robot_side_estop_damps_whatever_is_commanded(kitchen, spec):
    from bridge.messages import JointCommand

    sim = SimWorld(kitchen)
    sim.estop()
    state = sim.step(JointCommand(seq=1, stamp=0.0, q_target=spec.default_q, kp=spec.kp, kd=spec.kd))
    assert state.watchdog == "estop"
    assert np.abs(state.tau).max() < 50  # damping only: no stiff PD torque


def test_control_process_estop_socket(tmp_path, spec):
    import time

    import zmq

    from bridge.control_client import ControlClient
    from bridge.sim_client import LockstepSimClient
    from humanoid.launch import start_child, wait_until

    sim_ep, ctl_ep, stop_ep = (f"ipc://{tmp_path}/{n}" for n in ("sim", "ctl", "estop"))
    sim = start_child("simulator", "bridge.sim_server", ["--endpoint", sim_ep], tmp_path)
    ctl = start_child("control", "control.service", ["--sim", sim_ep, "--endpoint", ctl_ep, "--estop-endpoint", stop_ep], tmp_path)
    client = ControlClient(ctl_ep, timeout_s=5.0)
    push = zmq.Context.instance().socket(zmq.PUSH)
    push.setsockopt(zmq.LINGER, 0)
    try:
        probe = LockstepSimClient(sim_ep, timeout_s=1.0)
        wait_until(lambda: probe.request("ping").ok, 60, [sim], "starting the simulator")
        wait_until(lambda: "leg_controller" in ControlClient(ctl_ep, timeout_s=1.0).info(), 60, [sim, ctl], "starting control")
        push.connect(stop_ep)
        push.send(b"stop")  # one message; PUSH queues it until it is delivered
        time.sleep(0.2)
        res = client.execute(_reach_request(spec))
        assert res.status == "safety_stop", res.detail
        client.shutdown()
        probe.request("shutdown")
    finally:
        push.close()
        client.close()
        ctl.stop()
        sim.stop()
