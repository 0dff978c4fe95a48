"""The motion layer's link to the control process (implements motion's `MotionClient`)."""

from __future__ import annotations

from bridge.messages import MotionRequest, MotionResult, Reply, Request, RobotState, WorldObservation
from bridge.transport import RpcClient

REQUEST_OVERHEAD_S = 10.0  # wall time allowed on top of the request's own sim duration


class ControlClient:
    def __init__(self, endpoint: str, timeout_s: float = 10.0) -> None:
        self.rpc = RpcClient(endpoint, "control loop", timeout_s)

    def execute(self, req: MotionRequest) -> MotionResult:
        duration = (float(req.times[-1]) if len(req.times) else 0.0) + req.settle_s
        return self.rpc.call(req, MotionResult, timeout_s=REQUEST_OVERHEAD_S + 2.0 * duration)

    def observe(self) -> WorldObservation:
        return self.rpc.call(Request(op="observe"), WorldObservation)

    def state(self) -> RobotState:
        return self.rpc.call(Request(op="state"), RobotState)

    def info(self) -> dict:
        return self.rpc.call(Request(op="info"), Reply).payload

    def shutdown(self) -> None:
        self.rpc.call(Request(op="shutdown"), Reply, timeout_s=2.0)

    def close(self) -> None:
        self.rpc.close()
