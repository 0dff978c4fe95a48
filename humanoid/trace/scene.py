"""The scene as a trace records it once at the start of a run: a top-down map for the viewer.

`/scene/map` is our own small JSON shape (object ids, kinds, positions, footprints, place
regions, the robot's start); `/scene/entities` is the same scene as a Foxglove
`foxglove.SceneUpdate`, so Foxglove's 3D panel draws it without configuration. Building them
never raises: a map is a nice-to-have and must not stop a run.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

_LOG = logging.getLogger(__name__)
_PLACE_PREFIX = "place_"
_BOX = 6  # mujoco.mjtGeom.mjGEOM_BOX, without importing mujoco here
_COLOURS = {  # kind -> RGBA, for Foxglove's 3D panel
    "furniture": (0.55, 0.45, 0.35, 0.6),
    "appliance": (0.3, 0.3, 0.35, 0.9),
    "mug": (0.2, 0.4, 0.9, 0.9),
    "item": (0.9, 0.6, 0.1, 0.9),
}


def _footprint(model: Any, data: Any, body_id: int) -> list[float]:
    """Half extents (x, y, z) of a body's geoms around its origin, world-aligned (approximate)."""
    lo, hi = np.full(3, np.inf), np.full(3, -np.inf)
    for g in range(model.ngeom):
        if model.geom_bodyid[g] != body_id:
            continue
        centre = data.geom_xpos[g]
        if model.geom_type[g] == _BOX:
            # a rotated box's world-aligned half extents: |R| @ half sizes
            half = np.abs(data.geom_xmat[g].reshape(3, 3)) @ model.geom_size[g]
        else:
            half = np.full(3, model.geom_rbound[g])
        lo, hi = np.minimum(lo, centre - half), np.maximum(hi, centre + half)
    if not np.all(np.isfinite(lo)):
        return [0.05, 0.05, 0.05]
    origin = data.xpos[body_id]
    return np.maximum(np.abs(hi - origin), np.abs(origin - lo)).round(3).tolist()


def scene_map(world: Any, observation: Any) -> dict[str, Any]:
    """The `/scene/map` payload from a `scenarios.world.World` and the first `WorldObservation`."""
    model = world.model
    data = world.initial_data()
    objects = []
    for obs in observation.objects:
        info = world.objects.get(obs.id)
        entry: dict[str, Any] = {
            "id": obs.id,
            "kind": info.kind if info else "item",
            "pos": [round(float(v), 4) for v in obs.pos],
            "half_size": [0.05, 0.05, 0.05],
        }
        try:
            entry["half_size"] = _footprint(model, data, model.body(obs.id).id)
        except KeyError:  # an object perception reports that is no body of its own
            pass
        objects.append(entry)
    places = []
    for i in range(model.nsite):
        name = model.site(i).name
        if name.startswith(_PLACE_PREFIX):
            places.append(
                {
                    "id": name[len(_PLACE_PREFIX) :],
                    "pos": data.site_xpos[i].round(4).tolist(),
                    "half_size": model.site_size[i].round(4).tolist(),
                }
            )
    root = world.root_qpos_adr
    return {
        "frame": "world",
        "objects": objects,
        "places": places,
        "robot_start": data.qpos[root : root + 3].round(4).tolist(),
        "planned_base_path": [],  # walks are planned later: /motion/plan messages of kind base_path
    }


def scene_entities(scene: dict[str, Any], stamp_ns: int) -> dict[str, Any]:
    """`/scene/map` as a `foxglove.SceneUpdate`: one cube per object and place region."""
    stamp = {"sec": stamp_ns // 1_000_000_000, "nsec": stamp_ns % 1_000_000_000}
    entities = []
    for group, items in (("object", scene.get("objects", [])), ("place", scene.get("places", []))):
        for item in items:
            x, y, z = item["pos"]
            hx, hy, hz = item["half_size"]
            r, g, b, a = (
                (0.2, 0.8, 0.2, 0.25)
                if group == "place"
                else _COLOURS.get(item.get("kind", ""), _COLOURS["item"])
            )
            pose = {"position": {"x": x, "y": y, "z": z}, "orientation": {"x": 0, "y": 0, "z": 0, "w": 1}}
            entities.append(
                {
                    "timestamp": stamp,
                    "frame_id": scene.get("frame", "world"),
                    "id": f"{group}/{item['id']}",
                    "lifetime": {"sec": 0, "nsec": 0},
                    "frame_locked": False,
                    "metadata": [{"key": "kind", "value": str(item.get("kind", group))}],
                    "cubes": [
                        {
                            "pose": pose,
                            "size": {"x": 2 * hx, "y": 2 * hy, "z": 2 * hz},
                            "color": {"r": r, "g": g, "b": b, "a": a},
                        }
                    ],
                    "texts": [
                        {
                            "pose": {**pose, "position": {"x": x, "y": y, "z": z + hz + 0.05}},
                            "billboard": True,
                            "font_size": 12.0,
                            "scale_invariant": True,
                            "color": {"r": 1, "g": 1, "b": 1, "a": 1},
                            "text": item["id"],
                        }
                    ],
                }
            )
    return {"deletions": [], "entities": entities}


def write_scene(trace: Any, world: Any, observation: Any) -> None:
    """Write `/scene/map` and `/scene/entities` once; logs and carries on if anything is off."""
    try:
        scene = scene_map(world, observation)
        sim_time = float(getattr(observation, "sim_time", 0.0))
        trace.write("/scene/map", scene, sim_time=sim_time)
        trace.write("/scene/entities", scene_entities(scene, round(sim_time * 1e9)), sim_time=sim_time)
    except Exception:  # a map is for people looking at the run later, never worth a failed run
        _LOG.warning("could not write the scene map to the trace", exc_info=True)
