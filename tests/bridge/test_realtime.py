"""Realtime mode (a stand-in for a hardware driver): paced states, watchdog over the wire."""

from __future__ import annotations

import numpy as np

from bridge.messages import JointCommand
from bridge.sim_client import RealtimeRobotClient
from humanoid.launch import start_child, wait_until


def test_realtime_server_is_paced_and_its_watchdog_catches_a_silent_controller(tmp_path, spec):
    eps = [f"ipc://{tmp_path}/{n}" for n in ("req", "state", "cmd")]
    args = ["--realtime", "--endpoint", eps[0], "--state-endpoint", eps[1], "--command-endpoint", eps[2]]
    child = start_child("simulator", "bridge.sim_server", args, tmp_path)
    robot = RealtimeRobotClient(*eps, timeout_s=2.0)
    try:
        wait_until(lambda: robot.state() is not None, 60, [child], "starting the realtime simulator")
        first = robot.next_state()
        state = first
        for i in range(25):  # half a second of commands, each answering the latest state
            cmd = JointCommand(seq=i, stamp=state.sim_time, q_target=spec.default_q, kp=spec.kp, kd=spec.kd)
            state = robot.step(cmd)
        last = state
        assert last.watchdog == "ok"
        modes = [robot.next_state().watchdog for _ in range(40)]  # 0.8 s of silence
        assert "hold" in modes and modes[-1] == "damp"
        # sim time kept flowing without any commands
        assert robot.next_state().sim_time - first.sim_time > 1.0
        assert np.isfinite(last.q).all()
    finally:
        robot.close()
        child.stop()


def test_control_process_keeps_a_realtime_robot_commanded_between_requests(tmp_path, spec):
    """Against a wall-clock robot the control loop must never fall silent, or the watchdog damps."""
    import time

    from bridge.control_client import ControlClient
    from bridge.messages import MotionRequest

    eps = [f"ipc://{tmp_path}/{n}" for n in ("req", "state", "cmd")]
    args = ["--realtime", "--endpoint", eps[0], "--state-endpoint", eps[1], "--command-endpoint", eps[2]]
    sim = start_child("simulator", "bridge.sim_server", args, tmp_path)
    ctl_ep = f"ipc://{tmp_path}/ctl"
    ctl = start_child("control", "control.service", ["--realtime-robot", *eps, "--endpoint", ctl_ep], tmp_path)
    client = ControlClient(ctl_ep, timeout_s=3.0)
    try:
        wait_until(lambda: ControlClient(ctl_ep, timeout_s=1.0).info()["leg_controller"].startswith("policy:stand"), 60, [sim, ctl], "starting control")
        time.sleep(1.0)  # idle: no motion request at all
        state = client.state()
        assert state.watchdog == "ok" and state.base_pos[2] > 0.7
        arm = spec.indices(("left_arm", "right_arm"))
        q0 = spec.default_q[arm]
        q1 = q0.copy()
        q1[1] = 0.8  # left arm out to the side
        res = client.execute(
            MotionRequest(seq=1, times=np.array([0.0, 0.5]), arm_q=np.stack([q0, q1]), gripper=np.zeros((2, 2)), settle_s=0.3)
        )
        assert res.status == "ok", res.detail
        assert abs(res.state.q[arm[1]] - 0.8) < 0.15
        client.shutdown()
    finally:
        client.close()
        ctl.stop()
        sim.stop()
