"""Bridge round trip: one lockstep control period over ZeroMQ vs the same step in-process.

    python -m benchmarks.bridge_roundtrip [--steps 2000]

Rows: the physics step alone (in-process SimWorld.step, the baseline), a ZeroMQ echo of a
RobotState-sized message (transport alone), and the full lockstep round trip to the simulator
process (encode, send, 10 physics steps, observe, encode, reply, decode).
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time

import zmq

from benchmarks.common import summarize, table
from bridge.messages import JointCommand, encode
from bridge.sim_client import LockstepSimClient
from bridge.sim_world import SimWorld
from humanoid.launch import start_child, wait_until
from humanoid.robot_spec import load_robot_spec
from scenarios.world import build_world


def _cmd(spec, t: float, seq: int) -> JointCommand:
    return JointCommand(seq=seq, stamp=t, q_target=spec.default_q, kp=spec.kp, kd=spec.kd)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=2000)
    args = ap.parse_args()
    spec = load_robot_spec()
    sim = SimWorld(build_world("kitchen", spec))
    inproc = []
    for i in range(args.steps):
        t0 = time.perf_counter()
        sim.step(_cmd(spec, sim.sim_time, i))
        inproc.append(time.perf_counter() - t0)

    tmp = tempfile.mkdtemp(prefix="bench-bridge-")
    ctx = zmq.Context.instance()
    echo_ep = f"ipc://{tmp}/echo"
    rep = ctx.socket(zmq.REP)
    rep.bind(echo_ep)

    def echo() -> None:
        for _ in range(args.steps):
            rep.send(rep.recv())

    threading.Thread(target=echo, daemon=True).start()
    req = ctx.socket(zmq.REQ)
    req.connect(echo_ep)
    payload = encode(sim.state())
    transport = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        req.send(payload)
        req.recv()
        transport.append(time.perf_counter() - t0)

    endpoint = f"ipc://{tmp}/sim"
    child = start_child("simulator", "bridge.sim_server", ["--endpoint", endpoint], __import__("pathlib").Path(tmp))
    client = LockstepSimClient(endpoint)
    wait_until(lambda: client.request("ping").ok, 60, [child], "starting the simulator")
    state = client.state()
    full = []
    for i in range(args.steps):
        t0 = time.perf_counter()
        state = client.step(_cmd(spec, state.sim_time, i))
        full.append(time.perf_counter() - t0)
    client.request("shutdown")
    child.stop()

    rows = [
        ("physics step in-process (baseline)", summarize(inproc)),
        ("zmq echo of a RobotState (ipc)", summarize(transport)),
        ("lockstep round trip to sim process (ipc)", summarize(full)),
    ]
    print(table(rows, baseline="physics step in-process (baseline)"))
    period_ms = 1e3 / spec.control_rate_hz
    print(f"\ncontrol period {period_ms:.0f} ms; lockstep runs at {period_ms / rows[2][1]['p50_ms']:.1f}x real time (p50, hold pose)")


if __name__ == "__main__":
    main()
