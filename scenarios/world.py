"""Assemble a simulated world: a scene MJCF with a robot spec attached at its start pose.

Every process that needs the world's geometry (the simulator, the motion layer's collision
model, `humanoid plan`) builds it here, so they all see the same bodies and names. Scene
sites the layers above rely on: `place_<id>` (place regions), `stand_<place>` (where the
pelvis stands to work at a place, facing along the site's x axis), `robot_start` and other
start sites (`start_pose`, `stand_poses`).
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import mujoco
import numpy as np
import yaml

from humanoid.robot_spec import RobotSpec

SCENES_DIR = Path(__file__).resolve().parent / "scenes"
PLACE_PREFIX = "place_"
STAND_PREFIX = "stand_"
# Until the walking policy is proven, the default world keeps the day-one job doable without
# walking: the robot starts at the coffee corner (`robot_start`) and the user is served on the
# coffee corner's counter (site `user_spot_corner`, worked from `stand_close_counter`). Once
# walking is proven, set this to True: the robot starts at `robot_start_away` and the user is
# served at their own station (`place_user` / `stand_user`), the room as authored.
WALKING_READY = True
DEFAULT_START = "robot_start_away" if WALKING_READY else "robot_start"
# The sites that stand in for the user's spot while walking is not proven.
_CORNER_USER_SPOT, _CORNER_USER_STAND = "user_spot_corner", "stand_close_counter"

XYYaw = tuple[float, float, float]


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
    start: XYYaw = (0.0, 0.0, 0.0)  # the robot's start pose (x, y, yaw), from the start site
    stands: dict[str, XYYaw] = field(default_factory=dict)  # place -> stand pose

    def initial_data(self, robot_xy_yaw: XYYaw | None = None) -> mujoco.MjData:
        """MjData with the robot standing in its default pose at `robot_xy_yaw` (default: `start`)."""
        data = mujoco.MjData(self.model)
        x, y, yaw = self.start if robot_xy_yaw is None else robot_xy_yaw
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


def _layout(walking_ready: bool | None) -> bool:
    return WALKING_READY if walking_ready is None else walking_ready


def scene_spec(scene: str, walking_ready: bool | None = None) -> mujoco.MjSpec:
    """The scene's MJCF as an editable spec, with the world's layout applied (`walking_ready`,
    default `WALKING_READY`: False serves the user at the coffee corner); every reader of a
    scene's geometry starts here."""
    scene_path = SCENES_DIR / f"{scene}.xml"
    if not scene_path.is_file():
        raise SceneError(f"unknown scene '{scene}': no {scene_path}. Known scenes: {list_scenes()}")
    spec = mujoco.MjSpec.from_file(str(scene_path))
    if not _layout(walking_ready):
        _serve_user_at_corner(spec)
    return spec


def _serve_user_at_corner(spec: mujoco.MjSpec) -> None:
    """Move the user's spot and stand pose to the coffee corner (see `WALKING_READY`)."""
    spot, user, corner = spec.site(_CORNER_USER_SPOT), spec.site(PLACE_PREFIX + "user"), spec.site(_CORNER_USER_STAND)
    if spot is None or user is None or corner is None:
        return  # a scene without a user or without a coffee corner: nothing to move
    user.pos, user.size = spot.pos.copy(), spot.size.copy()
    stand = spec.site(STAND_PREFIX + "user")
    if stand is not None:
        # the corner's stand is authored as a plain position (facing +x); an euler angle on the
        # user's stand would win over a quaternion, so the orientation type goes too
        stand.pos, stand.quat = corner.pos.copy(), corner.quat.copy()
        stand.alt.type = corner.alt.type
        stand.alt.euler = corner.alt.euler.copy()


def _site_xy_yaw(model: mujoco.MjModel, data: mujoco.MjData, site_id: int) -> XYYaw:
    x, y = (float(v) for v in data.site_xpos[site_id][:2])
    mat = data.site_xmat[site_id]
    return (round(x, 6), round(y, 6), round(float(np.arctan2(mat[3], mat[0])), 6))


def _stands_of(model: mujoco.MjModel, data: mujoco.MjData) -> dict[str, XYYaw]:
    return {
        model.site(i).name[len(STAND_PREFIX) :]: _site_xy_yaw(model, data, i)
        for i in range(model.nsite)
        if model.site(i).name.startswith(STAND_PREFIX)
    }


def _start_of(model: mujoco.MjModel, data: mujoco.MjData, scene: str, start: str) -> XYYaw:
    sid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, start)
    if sid < 0:
        if start == DEFAULT_START:
            return (0.0, 0.0, 0.0)  # a scene without start sites: the robot at the origin, as always
        starts = sorted(model.site(i).name for i in range(model.nsite) if model.site(i).name.startswith("robot_start"))
        raise SceneError(f"scene '{scene}' has no start site '{start}'; its start sites: {starts or 'none'}")
    return _site_xy_yaw(model, data, sid)


@lru_cache(maxsize=8)
def _scene_poses(scene: str, start: str, walking_ready: bool) -> tuple[dict[str, XYYaw], XYYaw]:
    """Cached on the resolved layout (never None), so a test that pins the layout gets its own."""
    model = scene_spec(scene, walking_ready).compile()
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    return _stands_of(model, data), _start_of(model, data, scene, start)


def stand_poses(scene: str, walking_ready: bool | None = None) -> dict[str, XYYaw]:
    """Each place's stand pose (x, y, yaw) in `scene`, from its `stand_<place>` sites (layout as `scene_spec`)."""
    return dict(_scene_poses(scene, DEFAULT_START, _layout(walking_ready))[0])


def start_pose(scene: str, start: str | None = None) -> XYYaw:
    """The robot's start pose (x, y, yaw) at the scene's site `start` (default `DEFAULT_START`)."""
    return _scene_poses(scene, start or DEFAULT_START, _layout(None))[1]


def build_world(
    scene: str,
    robot: RobotSpec,
    remove: tuple[str, ...] = (),
    start: str | None = None,
    walking_ready: bool | None = None,
) -> World:
    """Compile `scene` with `robot` attached; `remove` deletes scene bodies (e.g. a missing appliance);
    `start` names the site the robot starts at (default `DEFAULT_START`, e.g. "robot_start_away");
    `walking_ready` picks the layout (default `WALKING_READY`; False serves the user at the coffee
    corner, which the arm skills' tests use to work without walking)."""
    spec = scene_spec(scene, walking_ready)
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
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
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
        start=_start_of(model, data, scene, start or DEFAULT_START),
        stands=_stands_of(model, data),
    )
