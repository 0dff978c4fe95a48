"""The motion layer's entry point: run one `Subgoal` as a skill and report a `SkillResult`.

`SkillExecutor.run(subgoal)` dispatches by skill name to `motion/skills/<name>.py`, whose
`run(ctx, subgoal)` moves the robot through a `MotionClient` and returns observations or
raises `SkillFailure`. Motion plans go to `on_event("motion_plan", {...})` for the trace.
The executor is deterministic: it never retries beyond the skills' fixed fallback lists.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bridge.messages import WorldObservation
from humanoid.contracts import FailureReason, SkillResult, Subgoal
from motion.arm_planner import DEFAULT_TIME_LIMIT_S, ArmPlanner
from motion.collision_model import CollisionModel
from motion.ik import ArmIK
from motion.skills import SKILLS
from motion.skills.base import EventSink, MotionClient, SkillContext, SkillFailure
from scenarios.world import World


class UnknownSkillError(KeyError):
    """A subgoal names a skill the motion layer does not have."""

    def __str__(self) -> str:
        return str(self.args[0])


class SkillExecutor:
    def __init__(
        self,
        world: World,
        client: MotionClient,
        on_event: EventSink | None = None,
        planning_time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    ) -> None:
        model = CollisionModel(world)
        self.ctx = SkillContext(
            world=world,
            client=client,
            model=model,
            ik=ArmIK(world.robot),
            planner=ArmPlanner(model, time_limit_s=planning_time_limit_s),
            emit=on_event or (lambda kind, payload: None),
        )
        self.skills: dict[str, Callable[[SkillContext, Subgoal], dict[str, Any]]] = dict(SKILLS)

    @property
    def known_skills(self) -> list[str]:
        return sorted(self.skills)

    def observe(self) -> WorldObservation:
        """The current world observation (and robot state, kept in the context)."""
        return self.ctx.observe()

    def run(self, subgoal: Subgoal) -> SkillResult:
        skill = self.skills.get(subgoal.skill)
        if skill is None:
            raise UnknownSkillError(
                f"unknown skill '{subgoal.skill}' in subgoal {subgoal.describe()}; the motion layer knows {self.known_skills}"
            )
        t_wall = time.perf_counter()
        ctx = self.ctx
        ctx.skill = subgoal.skill
        try:
            ctx.observe()
        except SkillFailure as f:
            return self._result(subgoal, False, f.reason, f.message, f.observations, t_wall, None)
        t_sim = ctx.state.sim_time if ctx.state else 0.0
        try:
            obs = skill(ctx, subgoal)
            return self._result(subgoal, True, None, "", obs, t_wall, t_sim)
        except SkillFailure as f:
            return self._result(subgoal, False, f.reason, f.message, f.observations, t_wall, t_sim)

    def _result(
        self,
        subgoal: Subgoal,
        ok: bool,
        reason: FailureReason | None,
        message: str,
        obs: dict,
        t_wall: float,
        t_sim: float | None,
    ) -> SkillResult:
        st = self.ctx.state
        end = st.sim_time if st else 0.0
        return SkillResult(
            subgoal=subgoal,
            succeeded=ok,
            reason=reason,
            message=message,
            observations=dict(obs),
            sim_time_start=end if t_sim is None else t_sim,
            sim_time_end=end,
            wall_time_s=time.perf_counter() - t_wall,
        )
