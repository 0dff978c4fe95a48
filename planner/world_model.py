"""The planner's world model: symbolic facts read off a `WorldObservation`.

Perception reports poses and a few attributes; this module turns them into the facts the
PDDL domain speaks: where each object is (by the place regions), what each hand holds, what
each mug contains, which appliances are powered, which storage is open, plus static facts
(types, roles, reachability) from the scene catalogue and the domain binding.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache

from bridge.messages import ObjectObservation, WorldObservation
from planner.domain_config import DomainConfig, load_domain_config
from planner.goal import Fact, Facts, Goal
from scenarios.world import ObjectInfo, load_catalogue

# A tall object's centre may rise slightly above a region's box; sideways the boxes are exact
# (the user's spot lies next to mug_blue, and a margin there would hand the mug over).
REGION_Z_TOLERANCE_M = 0.02


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


def facts_from_observation(
    obs: WorldObservation,
    catalogue: Mapping[str, ObjectInfo] | None = None,
    config: DomainConfig | None = None,
    scene: str = "kitchen",
) -> Facts:
    """Every fact the planner may rely on in the observed world."""
    config = config or load_domain_config()
    catalogue = catalogue if catalogue is not None else scene_catalogue(scene)
    places = [o for o in obs.objects if "region" in o.attrs]
    place_ids = {p.id for p in places}
    facts: set[Fact] = set()

    for p in places:
        info = catalogue.get(p.id)
        facts.add(("place", p.id))
        if p.id in config.reachable_places:
            facts.add(("reachable", p.id))
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
