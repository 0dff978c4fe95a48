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
