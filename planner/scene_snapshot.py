"""A `WorldObservation` of a scene as authored, without running the simulator.

`humanoid plan "COMMAND"` and the planner's tests need a world to plan in; this reads the
scene's initial poses and place regions with MuJoCo and reports them with the same attrs
conventions as the simulator's perception stand-in (bridge/sim_world.py), plus the robot's
base pose at the scene's start site as the entry `robot` (planner/world_model.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import mujoco

from bridge.messages import ObjectObservation, WorldObservation
from scenarios.world import PLACE_PREFIX, SCENES_DIR, SceneError, load_catalogue, scene_spec, start_pose


def scene_observation(
    scene: str = "kitchen",
    remove: Iterable[str] = (),
    attrs: Mapping[str, Mapping[str, Any]] | None = None,
    start: str | None = None,
    walking_ready: bool | None = None,
) -> WorldObservation:
    """The scene's objects at their authored poses; `remove` drops objects, `attrs` overrides attributes,
    `start` names the robot's start site (default: the scene's default start), `walking_ready`
    picks the layout (scenarios/world.py `WALKING_READY`: True serves the user at their own station).

    Example: scene_observation(attrs={"coffee_machine": {"powered": False}}, start="robot_start_away").
    """
    path = SCENES_DIR / f"{scene}.xml"
    if not path.is_file():
        raise SceneError(f"unknown scene '{scene}': no {path}")
    catalogue = load_catalogue(scene)
    removed = set(remove)
    unknown = removed - set(catalogue)
    if unknown:
        raise SceneError(f"cannot remove {sorted(unknown)} from scene '{scene}': not in its catalogue")
    model = scene_spec(scene, walking_ready).compile()
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)

    regions: dict[str, dict[str, list[float]]] = {}
    for i in range(model.nsite):
        name = model.site(i).name
        if name.startswith(PLACE_PREFIX):
            regions[name[len(PLACE_PREFIX) :]] = {
                "center": [float(x) for x in data.site_xpos[i]],
                "half_size": [float(x) for x in model.site_size[i]],
            }

    objects = []
    for oid, info in catalogue.items():
        if oid in removed:
            continue
        a: dict[str, Any] = {}
        if oid in regions:
            a["region"] = regions[oid]
        if info.kind == "appliance":
            a["powered"] = True
        if info.kind == "mug":
            a["contains"] = None
        if "openable" in info.categories:
            a["open"] = False
        a.update((attrs or {}).get(oid, {}))
        bid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, oid)
        if bid >= 0:
            pos, quat = data.xpos[bid], data.xquat[bid]
        else:
            pos, quat = regions[oid]["center"], [1.0, 0.0, 0.0, 0.0]
        objects.append(
            ObjectObservation(id=oid, pos=[float(x) for x in pos], quat=[float(x) for x in quat], attrs=a)
        )
    for pid, region in regions.items():
        if pid not in catalogue:  # places without a body of their own, e.g. the user's spot
            objects.append(
                ObjectObservation(
                    id=pid, pos=list(region["center"]), quat=[1.0, 0.0, 0.0, 0.0], attrs={"region": region}
                )
            )
    x, y, yaw = start_pose(scene, start)
    objects.append(
        ObjectObservation(
            id="robot", pos=[x, y, 0.0], quat=[math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)], attrs={"kind": "robot"}
        )
    )
    return WorldObservation(seq=0, sim_time=0.0, objects=objects)
