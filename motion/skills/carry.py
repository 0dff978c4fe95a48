"""Carrying: raise what the hands hold above the counters' items before the robot walks.

`pick` lifts an object 7 cm off its support and leaves the arm reaching forward, the object
~0.4 m ahead of the pelvis and over the counter. Walked like that to the next station, the
object arrives where that station's own items stand: the side counter's kettle and instant
coffee stand at the offsets the mugs have at the close counter, and a carried mug knocked the
instant coffee off the counter as the robot docked. `navigate` therefore first raises each held
object straight up until its bottom clears `CARRY_BOTTOM_Z_M`; a hand that cannot (no
straight, collision-free line: under a shelf, out of reach) tries half the rise, then carries
the object as it is.
"""

from __future__ import annotations

from motion.skills.base import SkillContext, object_extent

# The kitchen's counters are 0.72-0.82 m high and their items up to 0.18 m tall (the kettle on
# the side counter: top at 0.90 m); a carried object's bottom goes above that.
CARRY_BOTTOM_Z_M = 0.93
MIN_RAISE_M = 0.01  # closer than this to the carry height: leave the arm alone


def raise_for_walking(ctx: SkillContext) -> dict[str, float]:
    """Raise every held object to the carry height; {hand: how far it was raised (m)}."""
    raised: dict[str, float] = {}
    for side in ctx.spec.end_effectors:
        oid = ctx.holding(side)
        if oid is None:
            continue
        _, half_h = object_extent(ctx, oid)
        rise = CARRY_BOTTOM_Z_M - (float(ctx.object(oid).pos[2]) - half_h)
        if rise < MIN_RAISE_M:
            continue
        raised[side] = 0.0
        site = ctx.spec.end_effectors[side].grasp_site
        p_now, r_now = ctx.frame_pose(side, site)
        for dz in (rise, rise / 2):
            path = ctx.line(side, site, "site", r_now, p_now, p_now + [0.0, 0.0, dz], ctx.arm_q(side))
            if path is not None:
                ctx.follow(side, path, "carry_raise", opening=0.0)
                raised[side] = round(float(dz), 3)
                break
    return raised
