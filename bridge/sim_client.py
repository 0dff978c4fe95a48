"""The control process's link to the robot: a lockstep simulator over ZeroMQ.

Implements `control.loop.RobotLink`. Every call has a timeout: a dead simulator surfaces as
`BridgeDown` within `timeout_s`, never as a hang.
"""

from __future__ import annotations

from bridge.messages import JointCommand, Request, RobotState, StepReply, StepRequest, WorldObservation
from bridge.transport import RpcClient


class LockstepSimClient:
    def __init__(self, endpoint: str, timeout_s: float = 3.0) -> None:
        self.rpc = RpcClient(endpoint, "simulator", timeout_s)

    def step(self, cmd: JointCommand | None) -> RobotState:
        if cmd is None:
            raise ValueError("lockstep needs a command every period")
        reply = self.rpc.call(StepRequest(command=cmd), StepReply)
        return reply.state

    def state(self) -> RobotState:
        return self.rpc.call(Request(op="state"), RobotState)

    def observe(self) -> WorldObservation:
        return self.rpc.call(Request(op="observe"), WorldObservation)

    def request(self, op: str, **args):
        from bridge.messages import Reply

        return self.rpc.call(Request(op=op, args=args), Reply)

    def close(self) -> None:
        self.rpc.close()


class RealtimeRobotClient:
    """A link to a robot running at wall-clock rate (`humanoid sim --realtime`, or hardware).

    `step(cmd)` publishes the command and returns the next state the robot publishes, so the
    control loop is paced by the robot, as on hardware.
    """

    def __init__(self, request_endpoint: str, state_endpoint: str, command_endpoint: str, timeout_s: float = 1.0) -> None:
        import zmq

        from bridge.transport import BridgeDown

        self._bridge_down = BridgeDown
        self.rpc = RpcClient(request_endpoint, "robot", timeout_s)
        ctx = zmq.Context.instance()
        self.sub = ctx.socket(zmq.SUB)
        self.sub.setsockopt(zmq.SUBSCRIBE, b"")
        self.sub.setsockopt(zmq.LINGER, 0)
        self.sub.connect(state_endpoint)
        self.pub = ctx.socket(zmq.PUB)
        self.pub.setsockopt(zmq.LINGER, 0)
        self.pub.connect(command_endpoint)
        self.timeout_s = timeout_s
        self.dropped = 0

    def next_state(self) -> RobotState:
        from bridge.messages import MessageError, decode

        while True:
            if not self.sub.poll(int(self.timeout_s * 1000)):
                raise self._bridge_down(f"the robot published no state for {self.timeout_s:.1f} s")
            try:
                return decode(self.sub.recv(), RobotState)
            except MessageError:
                self.dropped += 1  # a corrupt state is skipped; the next one comes in 20 ms

    def step(self, cmd: JointCommand | None) -> RobotState:
        from bridge.messages import encode

        if cmd is not None:
            self.pub.send(encode(cmd))
        return self.next_state()

    def state(self) -> RobotState:
        return self.rpc.call(Request(op="state"), RobotState)

    def observe(self) -> WorldObservation:
        return self.rpc.call(Request(op="observe"), WorldObservation)

    def close(self) -> None:
        self.rpc.close()
        self.sub.close(linger=0)
        self.pub.close(linger=0)
