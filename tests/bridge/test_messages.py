"""Wire messages: round trips, and every kind of bad input rejected with a clear error."""

from __future__ import annotations

import msgpack
import numpy as np
import pytest

from bridge.messages import (
    JointCommand,
    MessageError,
    MotionRequest,
    RobotState,
    WorldObservation,
    check_lengths,
    decode,
    encode,
)


def _state(n: int = 31) -> RobotState:
    return RobotState(
        seq=7,
        sim_time=1.25,
        q=np.linspace(-1, 1, n),
        qd=np.zeros(n),
        tau=np.ones(n),
        base_pos=np.array([0.0, 0.0, 0.74]),
        base_quat=np.array([1.0, 0.0, 0.0, 0.0]),
        base_linvel=np.zeros(3),
        base_angvel=np.zeros(3),
        foot_contact=np.ones(2),
    )


def test_robot_state_round_trip_is_exact():
    s = _state()
    back = decode(encode(s), RobotState)
    assert back.seq == 7 and back.sim_time == 1.25
    np.testing.assert_array_equal(back.q, s.q)
    assert back.watchdog == "ok"


def test_motion_request_round_trip_keeps_2d_arrays():
    req = MotionRequest(seq=1, times=np.array([0.0, 1.0]), arm_q=np.zeros((2, 14)), gripper=np.ones((2, 2)), settle_s=0.2)
    back = decode(encode(req), MotionRequest)
    assert back.arm_q.shape == (2, 14) and back.gripper.shape == (2, 2)


def test_garbage_bytes_are_rejected_with_a_reason():
    with pytest.raises(MessageError, match="not a msgpack message|no 'kind'"):
        decode(b"\xc1\xff\x00garbage")


def test_unknown_kind_lists_the_known_ones():
    with pytest.raises(MessageError, match="unknown message kind 'teleport'"):
        decode(msgpack.packb({"kind": "teleport", "version": 1}))


def test_wrong_version_is_rejected():
    raw = msgpack.unpackb(encode(_state()))
    raw["version"] = 99
    with pytest.raises(MessageError, match="wire version 99 not supported"):
        decode(msgpack.packb(raw))


def test_missing_field_is_named():
    raw = msgpack.unpackb(encode(_state()))
    del raw["base_quat"]
    with pytest.raises(MessageError, match="missing field 'base_quat'"):
        decode(msgpack.packb(raw))


def test_nan_in_a_state_is_rejected():
    s = _state()
    s.q[3] = np.nan
    with pytest.raises(MessageError, match="robot_state.q: contains NaN"):
        decode(encode(s))


def test_truncated_array_is_rejected():
    raw = msgpack.unpackb(encode(_state()))
    raw["q"]["b"] = raw["q"]["b"][:-8]
    with pytest.raises(MessageError, match="does not fit shape"):
        decode(msgpack.packb(raw))


def test_expecting_one_kind_and_getting_another():
    with pytest.raises(MessageError, match="expected a joint_command message"):
        decode(encode(_state()), JointCommand)


def test_joint_count_mismatch_is_reported():
    cmd = JointCommand(seq=1, stamp=0.0, q_target=np.zeros(5), kp=np.zeros(5), kd=np.zeros(5))
    with pytest.raises(MessageError, match="expected 31 joints"):
        check_lengths(cmd, 31)


def test_world_observation_round_trip():
    from bridge.messages import ObjectObservation

    obs = WorldObservation(seq=1, sim_time=0.0, objects=[ObjectObservation("mug_red", [0.4, -0.1, 0.77], [1, 0, 0, 0], {"contains": None})])
    back = decode(encode(obs), WorldObservation)
    assert back.by_id()["mug_red"].attrs == {"contains": None}


@pytest.mark.parametrize("dims", [3, [-1, -1], ["x"], [1, 2, 3, 4, 5]])
def test_hostile_array_header_is_a_message_error(dims):
    raw = msgpack.unpackb(encode(_state()))
    raw["q"]["__nd__"] = dims
    with pytest.raises(MessageError, match="robot_state"):
        decode(msgpack.packb(raw))


def test_wrongly_typed_flag_and_map_fields_are_rejected():
    from bridge.messages import Reply, Request

    raw = msgpack.unpackb(encode(Reply(ok=True)))
    raw["ok"] = "yes"
    with pytest.raises(MessageError, match="reply.ok: expected true or false"):
        decode(msgpack.packb(raw))
    raw = msgpack.unpackb(encode(Request(op="push")))
    raw["args"] = [1]
    with pytest.raises(MessageError, match="request.args: expected a map"):
        decode(msgpack.packb(raw))
