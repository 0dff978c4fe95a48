"""The planner's world model: symbolic facts read off a `WorldObservation`.

Perception reports poses and a few attributes; this module turns them into the facts the
PDDL domain speaks: where each object is (by the place regions), what each hand holds, what
each mug contains, which appliances are powered, which storage is open, where the robot
stands, plus static facts (types, roles, stations) from the scene catalogue, the scene's
stand poses and the domain binding.

Stations: each place is worked from its stand pose (the scene's `stand_<place>` site); places
with the same stand pose share one station, named by the first of them in alphabetical order
(the coffee machine is worked from `close_counter`). The robot is `robot-at` the station whose
stand pose is nearest to its observed pelvis, within the binding's radius and heading
tolerance, else `robot-at nowhere`. Its pose comes from the observation's object `robot`
(humanoid/run.py adds it from the robot state); an observation without one means the robot
stands at the scene's start pose.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from functools import lru_cache

from bridge.messages import ObjectObservation, WorldObservation
from planner.domain_config import DomainConfig, load_domain_config
from planner.goal import Fact, Facts, Goal
from scenarios.world import ObjectInfo, XYYaw, load_catalogue, stand_poses, start_pose

# A tall object's centre may rise slightly above a region's box; sideways the boxes are exact
# (the user's spot lies next to mug_blue, and a margin there would hand the mug over).
REGION_Z_TOLERANCE_M = 0.02
# The observation entry that carries the robot's base pose (pos = pelvis, quat = w, x, y, z).
ROBOT_ID = "robot"
NOWHERE = "nowhere"
# Stand poses closer than this (m, rad) are one station.
SAME_STAND_M, SAME_STAND_RAD = 0.01, 0.01


def _in_region(pos: list[float], region: Mapping[str, list[float]]) -> bool:
    c, h = region["center"], region["half_size"]
    return (
        abs(pos[0] - c[0]) <= h[0]
        and abs(pos[1] - c[1]) <= h[1]
        and abs(pos[2] - c[2]) <= h[2] + REGION_Z_TOLERANCE_M
    )


def _volume(region: Mapping[str, list[float]]) -> float:
    hx, hy, hz = region["half_size"]
    return hx * hy * hz


def place_of(pos: list[float], places: Iterable[ObjectObservation]) -> str | None:
    """The most specific place whose region holds `pos` (the coffee slot inside the counter wins)."""
    hits = [p for p in places if _in_region(pos, p.attrs["region"])]
    return min(hits, key=lambda p: _volume(p.attrs["region"])).id if hits else None


@lru_cache(maxsize=8)
def scene_catalogue(scene: str) -> Mapping[str, ObjectInfo]:
    """The scene's catalogue, read once: parsing its YAML costs more than planning."""
    return load_catalogue(scene)


def _angle(a: float) -> float:
    return abs((a + math.pi) % (2 * math.pi) - math.pi)


def stations(stands: Mapping[str, XYYaw], places: Iterable[str]) -> dict[str, str]:
    """Place -> its station: the first place, alphabetically, with the same stand pose."""
    out: dict[str, str] = {}
    with_stand = sorted(p for p in places if p in stands)
    for p in with_stand:
        x, y, yaw = stands[p]
        out[p] = next(
            q
            for q in with_stand
            if math.hypot(stands[q][0] - x, stands[q][1] - y) <= SAME_STAND_M
            and _angle(stands[q][2] - yaw) <= SAME_STAND_RAD
        )
    return out


def robot_pose(obs: WorldObservation) -> XYYaw | None:
    """The robot's (x, y, yaw) from the observation's `robot` entry, or None when it has none."""
    robot = next((o for o in obs.objects if o.id == ROBOT_ID), None)
    if robot is None:
        return None
    w, x, y, z = robot.quat
    return (robot.pos[0], robot.pos[1], math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z)))


def station_at(
    pose: XYYaw, stands: Mapping[str, XYYaw], station_of: Mapping[str, str], radius_m: float, yaw_tol_rad: float
) -> str:
    """The station whose stand pose is nearest to `pose` within `radius_m` and `yaw_tol_rad`, else NOWHERE."""
    best, best_d = NOWHERE, math.inf
    for s in sorted(set(station_of.values())):
        sx, sy, syaw = stands[s]
        d = math.hypot(sx - pose[0], sy - pose[1])
        if d <= radius_m and _angle(syaw - pose[2]) <= yaw_tol_rad and d < best_d:
            best, best_d = s, d
    return best


def facts_from_observation(
    obs: WorldObservation,
    catalogue: Mapping[str, ObjectInfo] | None = None,
    config: DomainConfig | None = None,
    scene: str = "kitchen",
    can_walk: bool = True,
    stands: Mapping[str, XYYaw] | None = None,
) -> Facts:
    """Every fact the planner may rely on in the observed world.

    `can_walk` says whether the motion layer has a `navigate` skill; without it the robot can
    only act at the station where it stands. `stands` overrides the scene's stand poses."""
    config = config or load_domain_config()
    catalogue = catalogue if catalogue is not None else scene_catalogue(scene)
    stands = stands if stands is not None else stand_poses(scene)
    places = [o for o in obs.objects if "region" in o.attrs]
    place_ids = {p.id for p in places}
    facts: set[Fact] = set()

    station_of = stations(stands, place_ids)
    facts.update(("station-of", p, s) for p, s in station_of.items())
    facts.update(("station", s) for s in set(station_of.values()))
    pose = robot_pose(obs) or start_pose(scene)
    facts.add(
        ("robot-at", station_at(pose, stands, station_of, config.station_radius_m, config.station_yaw_tolerance_rad))
    )
    if can_walk:
        facts.add(("can-walk",))

    for p in places:
        info = catalogue.get(p.id)
        facts.add(("place", p.id))
        if info and "openable" in info.categories:
            facts.add(("openable", p.id))
            facts.add(("open", p.id) if p.attrs.get("open") else ("closed", p.id))
        elif p.id in config.serving_places:
            facts.add(("serving", p.id))
        elif not (info and _has_role(info, config.roles.get("coffee-maker", ()))):
            facts.add(("surface", p.id))

    held: dict[str, str] = {}
    for o in obs.objects:
        info = catalogue.get(o.id)
        if info is None:
            continue  # perception may see things the catalogue does not describe; nothing to plan with
        facts.update(("is-a", o.id, c) for c in info.categories)
        facts.update((role, o.id) for role, cats in config.roles.items() if _has_role(info, cats))
        if "powered" in o.attrs and o.attrs["powered"]:
            facts.add(("powered", o.id))
        if o.id in place_ids or not info.graspable:
            continue
        facts.add(("mug", o.id) if info.kind == "mug" else ("graspable", o.id))
        facts.add(("accessible", o.id))
        if o.attrs.get("hot") or "hot_water" in (o.attrs.get("contents") or ()):
            facts.add(("hot", o.id))
        if info.kind == "mug":
            content = o.attrs.get("contains")
            if content in config.contents:
                facts.add(("contains", o.id, content))
            elif not content:
                facts.add(("empty", o.id))
        hand = o.attrs.get("in_hand")
        if hand in config.hands:
            held[hand] = o.id
            facts.add(("holding", o.id, hand))
            continue
        where = place_of(o.pos, places)
        if where is not None:
            facts.add(("at", o.id, where))
            if where in config.serving_places:
                facts.add(("handed", o.id))  # the user has it once it rests in their spot

    for hand in config.hands:
        facts.add(("hand", hand))
        if hand not in held:
            facts.add(("hand-free", hand))
    if not held:
        facts.add(("hands-empty",))
    return frozenset(facts)


def _has_role(info: ObjectInfo, categories: Iterable[str]) -> bool:
    cats = tuple(categories)
    return bool(cats) and all(c in info.categories for c in cats)


def predicate_holds(pred: Fact, facts: Facts) -> bool:
    """One success predicate against observed facts; ("holding", obj) means "in either hand"."""
    if pred[0] == "holding" and len(pred) == 2:
        return any(f[0] == "holding" and f[1] == pred[1] for f in facts)
    return pred in facts


def goal_holds(goal: Goal, obs: WorldObservation, scene: str = "kitchen") -> bool:
    """The goal check on an observation."""
    return goal.holds(facts_from_observation(obs, scene=scene))


def where_is(obj: str, facts: Facts) -> str | None:
    """A short phrase for an object's location, for error messages."""
    for f in facts:
        if f[0] == "at" and f[1] == obj:
            return f"at {f[2]}"
        if f[0] == "holding" and f[1] == obj:
            return f"in the {f[2]} hand"
    return None
