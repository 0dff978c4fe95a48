"""The simulator as its own process over ZeroMQ: bad messages, a dead simulator, lockstep."""

from __future__ import annotations

import time

import msgpack
import numpy as np
import pytest

from bridge.messages import JointCommand, Reply, decode
from bridge.sim_client import LockstepSimClient
from bridge.transport import BridgeDown, RemoteError, RpcClient
from humanoid.launch import start_child, wait_until


@pytest.fixture
def sim_process(tmp_path):
    endpoint = f"ipc://{tmp_path}/sim"
    child = start_child("simulator", "bridge.sim_server", ["--endpoint", endpoint, "--seed", "1"], tmp_path)
    client = LockstepSimClient(endpoint, timeout_s=2.0)
    wait_until(lambda: client.request("ping").ok, 60, [child], "starting the simulator")
    yield child, client, endpoint
    client.close()
    child.stop()


def _cmd(spec, state, seq):
    return JointCommand(seq=seq, stamp=state.sim_time, q_target=spec.default_q, kp=spec.kp, kd=spec.kd)


def test_malformed_messages_are_dropped_and_the_server_keeps_serving(sim_process, spec):
    child, client, endpoint = sim_process
    raw = RpcClient(endpoint, "simulator", 2.0)
    for junk in (b"\x00\x01garbage", msgpack.packb({"kind": "step_request", "version": 1}), msgpack.packb([1, 2, 3])):
        reply = decode(raw.call_raw(junk))
        assert isinstance(reply, Reply) and not reply.ok
        assert "malformed message dropped" in reply.error
    wrong_size = JointCommand(seq=1, stamp=0.0, q_target=np.zeros(3), kp=np.zeros(3), kd=np.zeros(3))
    with pytest.raises(RemoteError, match="expected 31 joints"):
        client.step(wrong_size)
    state = client.state()
    state = client.step(_cmd(spec, state, 2))
    assert state.sim_time == pytest.approx(0.02)
    assert client.request("ping").payload["dropped"] == 4
    assert child.alive()
    raw.close()


def test_requests_with_wrong_arguments_are_refused_and_the_server_keeps_serving(sim_process, spec):
    child, client, _ = sim_process
    for op, args in (("push", {"body": "torso", "force": 5}), ("push", {"body": "torso", "force": [1, 2]}),
                     ("switch", {"appliance": "coffee_machine", "on": "false"}), ("push", {"body": "no_such_body", "force": [1, 0, 0]})):
        reply = client.request(op, **args)
        assert not reply.ok and "rejected" in reply.error, (op, args, reply)
    assert client.observe().by_id()["coffee_machine"].attrs["powered"] is True  # "false" did not switch it on/off
    state = client.state()
    assert client.step(_cmd(spec, state, 1)).sim_time == pytest.approx(state.sim_time + 0.02)
    assert child.alive()


def test_dead_simulator_is_reported_within_the_timeout(sim_process, spec):
    child, client, _ = sim_process
    state = client.state()
    child.proc.kill()
    child.proc.wait(5)
    t0 = time.monotonic()
    with pytest.raises(BridgeDown, match="simulator .* did not answer within 2.0 s"):
        client.step(_cmd(spec, state, 1))
    assert time.monotonic() - t0 < 5


def test_lockstep_runs_are_reproducible(tmp_path, spec):
    finals = []
    for run in range(2):
        endpoint = f"ipc://{tmp_path}/sim{run}"
        child = start_child(f"sim{run}", "bridge.sim_server", ["--endpoint", endpoint, "--seed", "5"], tmp_path)
        client = LockstepSimClient(endpoint, timeout_s=2.0)
        try:
            wait_until(lambda c=client: c.request("ping").ok, 60, [child], "starting the simulator")
            state = client.state()
            client.request("push", body="pelvis", force=[150.0, 40.0, 0.0], duration_s=0.1)
            for i in range(40):
                state = client.step(_cmd(spec, state, i))
            finals.append(state)
            client.request("shutdown")
        finally:
            client.close()
            child.stop()
    np.testing.assert_array_equal(finals[0].q, finals[1].q)
    np.testing.assert_array_equal(finals[0].base_pos, finals[1].base_pos)
