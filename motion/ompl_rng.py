"""Seeding OMPL for one query, shared by the arm and base planners.

OMPL seeds every sampler from one process-wide RNG, so without this a query's path would depend
on everything the process planned before it (a test's outcome on which tests ran first). Seeding
before each query makes one query give the same path whatever came before. OMPL warns when it is
re-seeded after sampling began; that warning is the point here, so it is silenced for the call.
"""

from __future__ import annotations

from ompl import util as ou


def seed_query(seed: int) -> None:
    level = ou.getLogLevel()
    ou.setLogLevel(ou.LogLevel.LOG_NONE)
    ou.RNG.setSeed(seed)
    ou.setLogLevel(level)
