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
        self.round_trips_s: list[float] = []

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
