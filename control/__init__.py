"""Frozen RL execution layer: observation/action layout, the ONNX policy, the safety monitor.

Runtime API (no torch here; training lives in `control.train`):
    io = PolicyIO(spec); policy = FrozenPolicy.from_spec(spec, "stand"); safety = SafetyMonitor(spec)
    obs = io.build_observation(state, upper_ref, last_action); action = policy.act(obs)
    verdict = safety.check(state, io.targets_from_action(action, upper_ref))
"""

from control.observation import PolicyIO
from control.policy import FrozenPolicy, PolicyError, PolicyIntegrityError, PolicyShapeError
from control.safety import SafetyEvent, SafetyMonitor, SafetyVerdict

__all__ = [
    "FrozenPolicy",
    "PolicyError",
    "PolicyIO",
    "PolicyIntegrityError",
    "PolicyShapeError",
    "SafetyEvent",
    "SafetyMonitor",
    "SafetyVerdict",
]
