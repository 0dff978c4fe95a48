"""What a scenario adds to one run: process arguments, event-triggered perturbations, planner
faults, and the final world snapshot its predicates are judged on.

`humanoid/run.py` calls these few functions so that the run stays one readable sequence; all
scenario knowledge lives here and in bridge/perturbations.py.
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np

from bridge.messages import MotionRequest, WorldObservation
from bridge.perturbations import WORLD_EVENTS
from planner.backends.base import ProposedPlan
from planner.errors import PlanningError
from scenarios.scenario import Perturbation, Scenario

_LINK_FAULT_FIELD = {
    "drop_messages": "drop_rate",
    "delay_messages": "delay_periods",
    "corrupt_messages": "corrupt_rate",
}


def sim_args(sc: Scenario, seed: int) -> list[str]:
    """Simulator arguments for the scenario's randomisation and timed world events."""
    args: list[str] = []
    if sc.start is not None:  # the simulator places the robot at this scene site
        args += ["--start", sc.start]
    terms = sc.randomize.terms()
    if terms:
        args += ["--randomize", json.dumps(terms)]
    for p in sc.perturbations:
        if p.kind in WORLD_EVENTS and p.at_s is not None:
            params = dict(p.params)
            if p.kind == "sensor_noise":
                params.setdefault("seed", seed)
            args += ["--perturb", json.dumps({"at_s": p.at_s, "kind": p.kind, "params": params})]
    return args


def control_args(sc: Scenario, seed: int) -> list[str]:
    """Control-process arguments for faults on the link to the robot (drop, delay, corrupt)."""
    faults: dict[str, Any] = {}
    for p in sc.perturbations:
        if p.kind in _LINK_FAULT_FIELD:
            field = _LINK_FAULT_FIELD[p.kind]
            faults[field] = p.params.get("rate", p.params.get("periods", 0))
    if not faults:
        return []
    return ["--link-faults", json.dumps({**faults, "seed": seed})]


class EventPerturber:
    """Turns planner events into world perturbations due in the simulator (`perturb` request).

    Called from the run's event sink; the control loop is idle while the planner reports, so a
    request to the lockstep simulator here does not race the robot's steps.
    """

    def __init__(self, sc: Scenario, sim_client: Any) -> None:
        self.pending: list[Perturbation] = [p for p in sc.perturbations if p.trigger is not None]
        self.sim = sim_client
        self.sent: list[dict[str, Any]] = []

    def __call__(self, kind: str, payload: dict[str, Any], sim_time: float | None) -> None:
        for p in list(self.pending):
            assert p.trigger is not None
            if not _matches(p, kind, payload):
                continue
            at_s = (sim_time or 0.0) + p.trigger.after_s
            self.sim.request("perturb", at_s=at_s, kind=p.kind, params=p.params)
            self.sent.append({"kind": p.kind, "at_s": at_s, "on": kind, "params": p.params})
            if p.trigger.once:
                self.pending.remove(p)


def _matches(p: Perturbation, kind: str, payload: dict[str, Any]) -> bool:
    assert p.trigger is not None
    if p.trigger.event != kind:
        return False
    sg = payload.get("subgoal") or {}
    if p.trigger.skill is not None and sg.get("skill") != p.trigger.skill:
        return False
    return all(sg.get("args", {}).get(k) == v for k, v in p.trigger.args.items())


# --- planner backend faults -----------------------------------------------------------------
class FaultyBackend:
    """A planner backend that misbehaves as a remote language model can: malformed output, a
    time-out, or no answer at all. Grounding is the real backend's; only `propose` fails."""

    def __init__(self, inner: Any, kind: str, params: dict[str, Any]) -> None:
        self.inner = inner
        self.kind = kind
        self.params = params
        self.name = f"{inner.name}+{kind}"
        self.calls = 0

    def ground(self, command: str):
        return self.inner.ground(command)

    def propose(self, goal, facts) -> ProposedPlan:
        self.calls += 1
        if self.calls > int(self.params.get("times", 1_000_000)):
            return self.inner.propose(goal, facts)
        if self.kind == "planner_malformed":
            # what a model answers when it ignores the schema: a sound binding, then a skill and
            # an object that do not exist
            real = self.inner.propose(goal, facts)
            return ProposedPlan(
                subgoals=[_bogus_subgoal()], binding=real.binding, actions=["(teleport mug moon)"]
            )
        if self.kind == "planner_timeout":
            time.sleep(float(self.params.get("timeout_s", 1.0)))
            raise PlanningError(
                f"the planner backend did not answer within {self.params.get('timeout_s', 1.0)} s (time-out)"
            )
        while True:  # planner_hang: a server that never answers; only the wall-time limit ends it
            time.sleep(1.0)


def _bogus_subgoal():
    from humanoid.contracts import Subgoal

    return Subgoal(skill="teleport", args={"obj": "mug_of_unobtainium"})


def planner_backend(sc: Scenario):
    """The scenario's planner backend: the default one, or it wrapped in a fault."""
    fault = next((p for p in sc.perturbations if p.kind.startswith("planner_")), None)
    if fault is None:
        return None
    from planner.backends.embedded import EmbeddedBackend

    return FaultyBackend(EmbeddedBackend(), fault.kind, fault.params)


# --- the final world ---------------------------------------------------------------------------
def settle(control: Any, hold_for_s: float, n_arm: int) -> None:
    """Stand still for `hold_for_s` of sim time, so 'still holds after a while' can be judged."""
    if hold_for_s <= 0:
        return
    control.execute(
        MotionRequest(
            seq=1_000_000,
            times=np.zeros(0),
            arm_q=np.zeros((0, n_arm)),
            gripper=np.zeros((0, 2)),
            settle_s=hold_for_s,
            label="scenario:hold_for",
        )
    )


def final_snapshot(
    obs: WorldObservation, state: Any, sim_events: dict[str, Any], sent: list[dict[str, Any]]
) -> dict[str, Any]:
    """The `/world/final` payload: what the scenario's predicates are evaluated on."""
    return {
        "sim_time": obs.sim_time,
        "objects": [
            {"id": o.id, "pos": list(o.pos), "quat": list(o.quat), "attrs": o.attrs} for o in obs.objects
        ],
        "robot": {
            "base_pos": [float(x) for x in state.base_pos] if state is not None else None,
            "base_quat": [float(x) for x in state.base_quat] if state is not None else None,
        },
        "appliance_events": sim_events.get("events", []),
        "perturbations": sim_events.get("perturbations", []) + [dict(s, requested=True) for s in sent],
    }


# --- commands ----------------------------------------------------------------------------------
class CommandsOutcome:
    """The outcome of a scenario's commands, run one after the other (shape of `PlannerOutcome`)."""

    def __init__(self, outcomes: list[Any]) -> None:
        self.outcomes = outcomes
        self.success = bool(outcomes) and all(o.success for o in outcomes)
        self.replans = sum(o.replans for o in outcomes)
        if len(outcomes) == 1:
            self.message = outcomes[0].message
        else:
            self.message = "; ".join(f"command {i + 1}: {o.message}" for i, o in enumerate(outcomes))


def run_commands(
    sc: Scenario, command: str, runner: Any, on_event: Any, control: Any, n_arm: int
) -> CommandsOutcome:
    """Run the scenario's timed command list (or just `command`), stopping at the first failure.

    A command waits, standing still, until its `at_s`; in lockstep sim time only passes while
    the robot executes something, so the wait is itself a hold request.
    """
    from planner.graph import run_planner

    backend = planner_backend(sc)
    timed = sc.command_list if sc.commands else []
    queue = [(c.at_s, c.text) for c in timed] or [(0.0, command)]
    outcomes = []
    for at_s, text in queue:
        now = control.state().sim_time
        settle(control, at_s - now, n_arm)
        outcomes.append(run_planner(text, runner, on_event=on_event, backend=backend))
        if not outcomes[-1].success:
            break
    return CommandsOutcome(outcomes)
