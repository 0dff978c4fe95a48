"""open(target): pull a door or drawer open by its handle (see `articulated`)."""

from __future__ import annotations

from humanoid.contracts import Subgoal
from motion.skills.articulated import operate
from motion.skills.base import SkillContext


def run(ctx: SkillContext, subgoal: Subgoal) -> dict:
    return operate(ctx, subgoal, opening=True)
