"""hand_over(obj): give the held object to the person, who is represented by the place `user`.

A person's hand is not simulated, so giving is setting the object down at the serving spot:
the hand brings it above the spot, lowers it to just above the surface, opens and retreats
(`place.place_held`, with its transfer fallback). Success is the object standing in the `user`
region, out of the hand: what the planner observes as `handed`.
"""

from __future__ import annotations

from humanoid.contracts import FailureReason, Subgoal
from motion.skills.base import SkillContext, SkillFailure
from motion.skills.place import place_held

USER_PLACE = "user"


def run(ctx: SkillContext, subgoal: Subgoal) -> dict:
    oid = subgoal.args.get("obj") or subgoal.args.get("object")
    if not oid:
        raise SkillFailure(
            FailureReason.PRECONDITION_FAILED, "hand_over needs args['obj']", args=dict(subgoal.args)
        )
    return {**place_held(ctx, oid, USER_PLACE), "handed_to": USER_PLACE}
