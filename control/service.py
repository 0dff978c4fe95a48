"""The control process: runs the control loop against the robot and serves the motion layer.

It owns the frozen policy and the safety monitor and nothing else; it never shares a process
with planning (OMPL holds the GIL while it plans, an LLM call takes seconds, and the robot
must keep its balance meanwhile). In lockstep the robot only moves while a `MotionRequest`
is being executed, so a run is reproducible and faster than real time.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from bridge.messages import MessageError, MotionRequest, MotionResult, Reply, Request, decode, encode
from bridge.sim_client import LockstepSimClient
from bridge.transport import BridgeDown, RemoteError, bind_rep, error_reply
from control.locomotion import LocomotionController
from control.loop import ControlLoop, PolicyLegController
from humanoid.robot_spec import SpecError, load_robot_spec

log = logging.getLogger("control.service")


def _bridge_down_result(req: MotionRequest, detail: str) -> MotionResult:
    return MotionResult(seq=req.seq, status="bridge_down", detail=detail, state=None, world=None)


def serve(loop: ControlLoop, endpoint: str, realtime: bool = False) -> None:
    """Answer requests one at a time. In realtime the robot never waits: between requests the
    loop keeps ticking (holding the last references), paced by the robot's own state stream."""
    rep = bind_rep(endpoint)
    dropped = 0
    running = True
    while running:
        if realtime and not rep.poll(0):
            try:
                loop.tick()
            except (BridgeDown, RemoteError) as exc:
                log.error("robot link lost while idle: %s", exc)
                rep.poll(100)  # nothing to command; wait for a request instead of spinning
            continue
        raw = rep.recv()
        try:
            msg = decode(raw)
        except MessageError as exc:
            dropped += 1
            log.warning("dropped a malformed message (%d so far): %s", dropped, exc)
            rep.send(error_reply(f"malformed message dropped: {exc}"))
            continue
        try:
            if isinstance(msg, MotionRequest):
                rep.send(encode(loop.execute(msg)))
            elif isinstance(msg, Request) and msg.op == "observe":
                rep.send(encode(loop.robot.observe()))
            elif isinstance(msg, Request) and msg.op == "state":
                rep.send(encode(loop.state))
            elif isinstance(msg, Request) and msg.op == "info":
                rep.send(encode(Reply(ok=True, payload={"leg_controller": loop.legs.name})))
            elif isinstance(msg, Request) and msg.op == "shutdown":
                rep.send(encode(Reply(ok=True)))
                running = False
            else:
                rep.send(error_reply(f"the control loop does not serve {type(msg).__name__} {getattr(msg, 'op', '')}"))
        except (BridgeDown, RemoteError) as exc:
            log.error("robot link lost: %s", exc)
            if isinstance(msg, MotionRequest):
                rep.send(encode(_bridge_down_result(msg, str(exc))))
            else:
                rep.send(error_reply(f"robot link lost: {exc}"))
        except Exception as exc:  # a request this loop did not foresee must not take the robot's controller down
            log.exception("request %s failed", type(msg).__name__)
            rep.send(error_reply(f"{type(msg).__name__} failed in the control loop: {type(exc).__name__}: {exc}"))
    rep.close(linger=0)


def _estop_listener(endpoint: str):
    """A callable that is True once anything has arrived on the e-stop socket (latched).

    PULL, not SUB: a SUB socket only subscribes when its owner touches it, and a PUB drops
    whatever it sends before that; a PUSH sender queues until the message is delivered.
    """
    import zmq

    pull = zmq.Context.instance().socket(zmq.PULL)
    pull.setsockopt(zmq.LINGER, 0)
    pull.bind(endpoint)
    pressed = False

    def pending() -> bool:
        nonlocal pressed
        if not pressed and pull.poll(0):
            pull.recv()
            pressed = True
            log.error("E-STOP received on %s: damping every joint, refusing every request", endpoint)
        return pressed

    return pending


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m control.service", description="Run the frozen control loop.")
    p.add_argument("--robot", default="reference_humanoid")
    p.add_argument("--policy", default="stand", help="the standing policy (manifest key)")
    p.add_argument("--walk-policy", default="walk", help="the walking policy (manifest key), used when the robot has one")
    link = p.add_mutually_exclusive_group(required=True)
    link.add_argument("--sim", help="endpoint of the lockstep simulator (REP)")
    link.add_argument(
        "--realtime-robot",
        nargs=3,
        metavar=("REQUEST_EP", "STATE_EP", "COMMAND_EP"),
        help="a robot running at wall-clock rate (`humanoid sim --realtime` or a hardware driver)",
    )
    p.add_argument("--endpoint", required=True, help="endpoint to serve MotionRequests on (REP)")
    p.add_argument(
        "--estop-endpoint",
        help="bind a PULL socket here: any message a PUSH socket sends to it is an emergency stop "
        "(damp every joint, refuse every request, until the control process restarts)",
    )
    p.add_argument("--link-faults", type=json.loads, help='scenario fault injection on the robot link, JSON, e.g. {"drop_rate": 0.05}')
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[control] %(levelname)s %(message)s", stream=sys.stderr)
    from control.policy import PolicyError

    try:
        spec = load_robot_spec(args.robot)
        if args.walk_policy in spec.policies:
            legs = LocomotionController(spec, args.policy, args.walk_policy)
        else:
            legs = PolicyLegController(spec, args.policy)
            log.warning("robot %s has no '%s' policy: it stands and works in place, it cannot walk", spec.name, args.walk_policy)
    except (SpecError, PolicyError) as exc:
        print(f"control: refusing to start: {exc}", file=sys.stderr)
        return 3
    if args.realtime_robot:
        from bridge.sim_client import RealtimeRobotClient

        robot = RealtimeRobotClient(*args.realtime_robot)
    else:
        robot = LockstepSimClient(args.sim)
    if args.link_faults:
        from bridge.perturbations import FaultyLink, LinkFaults

        robot = FaultyLink(robot, LinkFaults(**args.link_faults))
        log.warning("fault injection on the robot link: %s", args.link_faults)
    estop_pending = None
    if args.estop_endpoint:
        estop_pending = _estop_listener(args.estop_endpoint)
    try:
        loop = ControlLoop(spec, robot, legs, estop_pending=estop_pending)
    except BridgeDown as exc:
        print(f"control: {exc}", file=sys.stderr)
        return 4
    log.info("control loop up: %s, serving %s", legs.name, args.endpoint)
    serve(loop, args.endpoint, realtime=bool(args.realtime_robot))
    return 0


if __name__ == "__main__":
    sys.exit(main())
