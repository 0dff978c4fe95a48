"""A symbolic stand-in for the motion layer, to test the planner's graph without a simulator.

It keeps the world as facts, applies each subgoal with the PDDL domain's effects, and reports
observations the way perception would (poses in place regions, in_hand, contains, the robot
at its station's stand pose). It can be told to fail chosen steps, or to claim success
without doing anything.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

from bridge.messages import WorldObservation
from humanoid.contracts import FailureReason, SkillResult, Subgoal
from planner.symbolic import default_domain
from planner.world_model import ROBOT_ID, facts_from_observation
from scenarios.world import stand_poses

# (subgoal, how many times this same subgoal was already run) -> a failure, or None to succeed
FailurePolicy = Callable[[Subgoal, int], FailureReason | None]


def fail_once(description: str, reason: FailureReason) -> FailurePolicy:
    """Fail the first run of the subgoal described as e.g. 'pick(obj=mug_blue)'."""
    return lambda sg, n: reason if sg.describe() == description and n == 0 else None


def fail_always(description: str, reason: FailureReason) -> FailurePolicy:
    return lambda sg, n: reason if sg.describe() == description else None


class SymbolicRunner:
    def __init__(
        self,
        observation: WorldObservation,
        fail: FailurePolicy | None = None,
        lie: Callable[[Subgoal], bool] | None = None,
        report_hot: bool = False,
        stands: dict | None = None,
    ) -> None:
        self.domain = default_domain()
        self.obs = copy.deepcopy(observation)
        self.stands = stands if stands is not None else stand_poses("kitchen")
        self.facts = facts_from_observation(observation, stands=self.stands)
        self.fail = fail or (lambda sg, n: None)
        self.lie = lie or (lambda sg: False)
        self.report_hot = (
            report_hot  # the real kettle reports hot water; False exercises the planner's belief
        )
        self.calls: list[Subgoal] = []
        self.observe_calls = 0

    def run(self, subgoal: Subgoal) -> SkillResult:
        n = sum(1 for c in self.calls if c.describe() == subgoal.describe())
        self.calls.append(subgoal)
        reason = self.fail(subgoal, n)
        if reason is not None:
            obs = {"object": subgoal.args.get("obj", subgoal.args.get("target"))}
            return SkillResult(subgoal, False, reason, f"told to fail {subgoal.describe()}", obs)
        if not self.lie(subgoal):
            self.facts = self.domain.apply(subgoal, self.facts)
        return SkillResult(subgoal, True, None, "ok")

    def observe(self) -> WorldObservation:
        self.observe_calls += 1
        regions = {o.id: o.attrs["region"] for o in self.obs.objects if "region" in o.attrs}
        for o in self.obs.objects:
            if o.id in regions:
                continue
            if o.id == ROBOT_ID:  # walked: the robot stands at its station's stand pose
                here = next(f[1] for f in self.facts if f[0] == "robot-at")
                if here in self.stands:
                    x, y, yaw = self.stands[here]
                    o.pos, o.quat = [x, y, 0.0], [math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)]
                continue
            o.attrs.pop("in_hand", None)
            for f in self.facts:
                if f[0] == "holding" and f[1] == o.id:
                    o.attrs["in_hand"] = f[2]
                elif f[0] == "at" and f[1] == o.id and not self._inside(o.pos, regions[f[2]]):
                    o.pos = list(regions[f[2]]["center"])
            if "contains" in o.attrs:
                o.attrs["contains"] = next(
                    (f[2] for f in self.facts if f[0] == "contains" and f[1] == o.id), None
                )
            if o.id == "kettle" and self.report_hot and ("hot", o.id) in self.facts:
                o.attrs["contents"] = ["hot_water"]
        self.obs.seq += 1
        return copy.deepcopy(self.obs)

    @staticmethod
    def _inside(pos: list[float], region: dict) -> bool:
        c, h = region["center"], region["half_size"]
        return all(abs(pos[i] - c[i]) <= h[i] for i in range(3))
