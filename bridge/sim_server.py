"""The simulator process: serves a `SimWorld` as a robot over ZeroMQ.

Two modes, both speaking the same messages:
- lockstep (default for runs and regression tests): a REP socket; each `StepRequest` advances
  exactly one control period, so the same seed on the same machine gives the same run and the
  world runs as fast as the layers above allow;
- realtime (a stand-in for hardware): physics runs at wall-clock rate, `RobotState` is
  published on a PUB socket every period and the latest `JointCommand` is taken from a SUB
  socket; the REP socket still answers `Request`s. A silent controller trips the watchdog.
Malformed messages are dropped, counted and logged; they never stop the loop.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time

import zmq

from bridge import perturbations
from bridge.messages import JointCommand, MessageError, Reply, Request, StepReply, StepRequest, decode, encode
from bridge.sim_world import SimWorld
from bridge.transport import bind_rep, error_reply
from humanoid.robot_spec import load_robot_spec
from scenarios.world import build_world

log = logging.getLogger("bridge.sim_server")


class SimServer:
    def __init__(
        self,
        sim: SimWorld,
        endpoint: str,
        state_endpoint: str | None = None,
        command_endpoint: str | None = None,
        video=None,
    ):
        self.sim = sim
        self.video = video
        self.context = zmq.Context.instance()
        self.rep = bind_rep(endpoint, self.context)
        self.pub = self.sub = None
        if state_endpoint and command_endpoint:
            self.pub = self.context.socket(zmq.PUB)
            self.pub.bind(state_endpoint)
            self.sub = self.context.socket(zmq.SUB)
            self.sub.setsockopt(zmq.SUBSCRIBE, b"")
            self.sub.bind(command_endpoint)
        self.dropped = 0
        self.running = True
        self.die_at: float | None = None  # fault injection: exit abruptly at this sim time
        self.perturbations = perturbations.PerturbationSchedule()  # scenario events due at sim times

    def _handle(self, raw: bytes) -> bytes:
        try:
            msg = decode(raw)
        except MessageError as exc:
            self.dropped += 1
            log.warning("dropped a malformed message (%d so far): %s", self.dropped, exc)
            return error_reply(f"malformed message dropped: {exc}")
        try:
            if isinstance(msg, StepRequest):
                if self.die_at is not None and self.sim.sim_time >= self.die_at:
                    log.error("fault injection: the simulator dies now (sim time %.2f s)", self.sim.sim_time)
                    os._exit(17)
                self.perturbations.fire_due(self.sim)
                state = self.sim.step(msg.command)
                if self.video is not None:
                    self.video.maybe_capture(self.sim.data)
                world = self.sim.observe() if msg.observe_world else None
                return encode(StepReply(state=state, world=world))
            if isinstance(msg, Request):
                return self._request(msg)
        except (MessageError, ValueError, KeyError, TypeError, IndexError) as exc:
            self.dropped += 1
            log.warning("rejected a %s: %s", type(msg).__name__, exc)
            return error_reply(f"{type(msg).__name__} rejected: {exc}")
        except Exception as exc:  # last resort: log it, answer, keep serving the robot
            self.dropped += 1
            log.exception("a %s failed", type(msg).__name__)
            return error_reply(f"{type(msg).__name__} failed in the simulator: {type(exc).__name__}: {exc}")
        self.dropped += 1
        return error_reply(f"the simulator does not serve {type(msg).__name__} messages")

    def _request(self, req: Request) -> bytes:
        if req.op == "observe":
            return encode(self.sim.observe())
        if req.op == "state":
            return encode(self.sim.state())
        if req.op == "ping":
            return encode(Reply(ok=True, payload={"sim_time": self.sim.sim_time, "dropped": self.dropped}))
        if req.op == "push":
            self.sim.push(str(req.args["body"]), tuple(req.args["force"]), float(req.args.get("duration_s", 0.1)))
            return encode(Reply(ok=True))
        if req.op == "switch":
            if not isinstance(req.args.get("on"), bool):
                raise ValueError(f"switch needs on: true or false, got {req.args.get('on')!r}")
            self.sim.appliances.switch(str(req.args["appliance"]), req.args["on"])
            return encode(Reply(ok=True))
        if req.op == "perturb":
            # a scenario event (e.g. "move the mug 0.5 s after the pick starts"), due at `at_s`
            self.perturbations.add(float(req.args.get("at_s", self.sim.sim_time)), str(req.args["kind"]), dict(req.args.get("params", {})))
            return encode(Reply(ok=True))
        if req.op == "events":
            payload = {"events": list(self.sim.appliances.events), "perturbations": list(self.perturbations.fired)}
            return encode(Reply(ok=True, payload=payload))
        if req.op == "estop":
            self.sim.estop()
            log.warning("E-STOP: every joint damped until the simulator restarts")
            return encode(Reply(ok=True))
        if req.op == "shutdown":
            self.running = False
            return encode(Reply(ok=True))
        return error_reply(f"unknown request op {req.op!r}; known: observe, state, ping, push, switch, perturb, events, shutdown")

    def serve_lockstep(self) -> None:
        while self.running:
            raw = self.rep.recv()
            self.rep.send(self._handle(raw))

    def serve_realtime(self) -> None:
        period = 1.0 / self.sim.spec.control_rate_hz
        next_t = time.monotonic()
        while self.running:
            cmd = None
            while self.sub.poll(0):
                try:
                    cmd = decode(self.sub.recv(), JointCommand)
                except MessageError as exc:
                    self.dropped += 1
                    log.warning("dropped a malformed command (%d so far): %s", self.dropped, exc)
            try:
                state = self.sim.step(cmd)
            except MessageError as exc:
                self.dropped += 1
                log.warning("dropped a command that does not fit the robot: %s", exc)
                state = self.sim.step(None)
            if self.video is not None:
                self.video.maybe_capture(self.sim.data)
            self.pub.send(encode(state))
            while self.rep.poll(0):
                self.rep.send(self._handle(self.rep.recv()))
            next_t += period
            time.sleep(max(0.0, next_t - time.monotonic()))

    def close(self) -> None:
        if self.video is not None:
            self.video.close()
            log.info("video: %d frames written to %s", self.video.frames, self.video.path)
        for s in (self.rep, self.pub, self.sub):
            if s is not None:
                s.close(linger=0)


def build_sim(
    scene: str,
    robot: str,
    seed: int,
    remove: tuple[str, ...] = (),
    off: tuple[str, ...] = (),
    randomize: dict | None = None,
    start: str | None = None,
) -> SimWorld:
    sim = SimWorld(build_world(scene, load_robot_spec(robot), remove=remove, start=start), seed=seed)
    for appliance in off:
        sim.appliances.switch(appliance, False)
    for line in perturbations.randomize(sim, randomize or {}, seed):
        log.info("randomised (seed %d): %s", seed, line)
    return sim


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="humanoid sim", description="Serve the MuJoCo world as a robot over ZeroMQ.")
    p.add_argument("--scene", default="kitchen")
    p.add_argument("--robot", default="reference_humanoid")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--endpoint", default="tcp://127.0.0.1:5555", help="REP socket for steps and requests")
    p.add_argument("--realtime", action="store_true", help="run at wall-clock rate with PUB state / SUB commands")
    p.add_argument("--state-endpoint", default="tcp://127.0.0.1:5556")
    p.add_argument("--command-endpoint", default="tcp://127.0.0.1:5557")
    p.add_argument("--start", help="the scene site the robot starts at (default: the scene's default start)")
    p.add_argument("--remove", action="append", default=[], help="remove a scene object (repeatable)")
    p.add_argument("--off", action="append", default=[], help="switch an appliance off (repeatable)")
    p.add_argument("--video", help="write an MP4 clip of the run (rendered headless)")
    p.add_argument("--die-at", type=float, help="fault injection: exit abruptly at this sim time (s)")
    p.add_argument("--randomize", type=json.loads, default={}, help='JSON startup randomisation, e.g. {"mass": {"scale": [0.8, 1.2]}}')
    p.add_argument("--perturb", type=json.loads, action="append", default=[], help='JSON world event, e.g. {"at_s": 3, "kind": "push", "params": {...}} (repeatable)')
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[sim] %(levelname)s %(message)s", stream=sys.stderr)
    from humanoid.robot_spec import SpecError
    from scenarios.world import SceneError

    try:
        sim = build_sim(args.scene, args.robot, args.seed, tuple(args.remove), tuple(args.off), args.randomize, args.start)
    except (SpecError, SceneError, KeyError, ValueError, TypeError) as exc:
        print(f"humanoid sim: {exc}", file=sys.stderr)
        return 2
    video = None
    if args.video:
        from bridge.video import VideoRecorder

        video = VideoRecorder(sim.model, args.video)
    if args.realtime:
        server = SimServer(sim, args.endpoint, args.state_endpoint, args.command_endpoint, video=video)
        log.info("serving %s in realtime: requests %s, state %s, commands %s", args.scene, args.endpoint, args.state_endpoint, args.command_endpoint)
        try:
            server.serve_realtime()
        except KeyboardInterrupt:
            pass
    else:
        server = SimServer(sim, args.endpoint, video=video)
        server.die_at = args.die_at
        for ev in args.perturb:
            server.perturbations.add(ev["at_s"], ev["kind"], ev.get("params", {}))
        log.info("serving %s in lockstep on %s", args.scene, args.endpoint)
        try:
            server.serve_lockstep()
        except KeyboardInterrupt:
            pass
    server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
