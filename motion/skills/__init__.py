"""The skill library: one module per skill, each with `run(ctx, subgoal) -> observations`.

A skill returns the observations that show it worked, or raises `SkillFailure` with a
reason from the closed set (`humanoid.contracts.FailureReason`).
"""

from __future__ import annotations

from motion.skills import close, hand_over, navigate, pick, place, pour, press
from motion.skills import open as open_skill

SKILLS = {
    "pick": pick.run,
    "place": place.run,
    "press": press.run,
    "open": open_skill.run,
    "close": close.run,
    "pour": pour.run,
    "hand_over": hand_over.run,
    "navigate": navigate.run,
}
