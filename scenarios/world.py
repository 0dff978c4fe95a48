"""Assemble a simulated world: a scene MJCF with a robot spec attached at its start pose.

Every process that needs the world's geometry (the simulator, the motion layer's collision
model, `humanoid plan`) builds it here, so they all see the same bodies and names.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import mujoco
import numpy as np
import yaml

from humanoid.robot_spec import RobotSpec

SCENES_DIR = Path(__file__).resolve().parent / "scenes"
PLACE_PREFIX = "place_"


class SceneError(ValueError):
    """A scene that does not exist or does not fit the request (e.g. removing an unknown object)."""


@dataclass(frozen=True)
class ObjectInfo:
    """Static knowledge about one scene object, from the scene's catalogue file."""

    id: str
    kind: str  # item | mug | appliance | furniture
    graspable: bool
    categories: tuple[str, ...] = ()


@dataclass
class World:
    """A compiled world plus the names the layers above refer to."""

    model: mujoco.MjModel
    scene: str
    robot: RobotSpec
    objects: dict[str, ObjectInfo]
    places: tuple[str, ...]
    robot_qpos_adr: np.ndarray  # qpos addresses of the robot's actuated joints, wire order
    robot_dof_adr: np.ndarray  # qvel addresses of the same
    root_qpos_adr: int
    root_dof_adr: int
    removed: tuple[str, ...] = field(default_factory=tuple)

    def initial_data(self, robot_xy_yaw: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> mujoco.MjData:
        """MjData with the robot standing in its default pose at `robot_xy_yaw`."""
        data = mujoco.MjData(self.model)
        x, y, yaw = robot_xy_yaw
        a = self.root_qpos_adr
        data.qpos[a : a + 3] = (x, y, self.robot.base_height)
        data.qpos[a + 3 : a + 7] = (np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2))
        data.qpos[self.robot_qpos_adr] = self.robot.default_q
        mujoco.mj_forward(self.model, data)
        return data


_EMPTY_PREFIX_WARNING = "Attaching a spec with an empty prefix"


@contextlib.contextmanager
def _without_empty_prefix_warning():
    """Drop MuJoCo's one warning about attaching with an empty prefix, pass on any other.

    An empty prefix keeps the robot's joint names as its spec names them; the warning is only
    that such a model may not save back to XML, which we never do. Without this, MuJoCo
    prints it on every start and appends it to MUJOCO_LOG.TXT in the working directory.
    """
    previous = mujoco.get_mju_user_warning()

    def handler(message: str) -> None:
        if _EMPTY_PREFIX_WARNING not in message:
            (previous or (lambda m: print(f"MuJoCo warning: {m}", file=sys.stderr)))(message)

    mujoco.set_mju_user_warning(handler)
    try:
        yield
    finally:
        mujoco.set_mju_user_warning(previous)


def list_scenes() -> list[str]:
    return sorted(p.stem for p in SCENES_DIR.glob("*.xml"))


def load_catalogue(scene: str) -> dict[str, ObjectInfo]:
    path = SCENES_DIR / f"{scene}.objects.yaml"
    raw = yaml.safe_load(path.read_text())
    out = {}
    for oid, info in raw["objects"].items():
        oid = str(oid)
        out[oid] = ObjectInfo(
            id=oid,
            kind=str(info.get("kind", "item")),
            graspable=bool(info.get("graspable", False)),
            categories=tuple(info.get("categories", ())),
        )
    return out


def build_world(scene: str, robot: RobotSpec, remove: tuple[str, ...] = ()) -> World:
    """Compile `scene` with `robot` attached; `remove` deletes scene bodies (e.g. a missing appliance)."""
    scene_path = SCENES_DIR / f"{scene}.xml"
    if not scene_path.is_file():
        raise SceneError(f"unknown scene '{scene}': no {scene_path}. Known scenes: {list_scenes()}")
    spec = mujoco.MjSpec.from_file(str(scene_path))
    catalogue = load_catalogue(scene)
    for oid in remove:
        body = spec.body(oid)
        if body is None:
            raise SceneError(f"cannot remove '{oid}' from scene '{scene}': no such body")
        spec.delete(body)
        for s in list(spec.sites):
            if s.name == PLACE_PREFIX + oid:
                spec.delete(s)
        catalogue.pop(oid, None)
    robot_spec = mujoco.MjSpec.from_file(str(robot.mjcf_path))
    frame = spec.worldbody.add_frame()
    with warnings.catch_warnings(), _without_empty_prefix_warning():
        warnings.filterwarnings("ignore", message=_EMPTY_PREFIX_WARNING)
        spec.attach(robot_spec, frame=frame, prefix="")
        model = spec.compile()
    # The robot spec owns the physics step its PD gains and control period were tuned for.
    model.opt.timestep = robot.physics_dt

    root = model.body(robot.root_body)
    root_jnt = model.body_jntadr[root.id]
    jnt_ids = [model.joint(j).id for j in robot.joint_names]
    places = tuple(
        sorted(model.site(i).name[len(PLACE_PREFIX) :] for i in range(model.nsite) if model.site(i).name.startswith(PLACE_PREFIX))
    )
    return World(
        model=model,
        scene=scene,
        robot=robot,
        objects=catalogue,
        places=places,
        robot_qpos_adr=np.array([model.jnt_qposadr[j] for j in jnt_ids]),
        robot_dof_adr=np.array([model.jnt_dofadr[j] for j in jnt_ids]),
        root_qpos_adr=int(model.jnt_qposadr[root_jnt]),
        root_dof_adr=int(model.jnt_dofadr[root_jnt]),
        removed=tuple(remove),
    )
