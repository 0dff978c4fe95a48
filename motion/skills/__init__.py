"""The skill library: one module per skill, each with `run(ctx, subgoal) -> observations`."""

from __future__ import annotations

from motion.skills import pick, place, press

SKILLS = {
    "pick": pick.run,
    "place": place.run,
    "press": press.run,
}
