"""Load and validate a robot spec: MJCF + manifest (DESIGN.md, "Robots enter as spec files").

`RobotSpec` is the one place joint names, groups, gains and policy artifacts come from. The
actuated joint order of every `q`/`q_target` array on the wire is the MJCF actuator order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import mujoco
import numpy as np
import yaml

ROBOTS_DIR = Path(__file__).resolve().parent.parent / "robots"
DEFAULT_ROBOT = "reference_humanoid"


class SpecError(ValueError):
    """A robot spec that is missing, malformed or inconsistent with its MJCF."""


@dataclass(frozen=True)
class PolicyArtifact:
    name: str
    path: Path
    sha256: str
    model_card: Path | None


@dataclass(frozen=True)
class EndEffector:
    name: str
    arm: str
    gripper: str
    grasp_site: str
    tip_site: str
    hand_body: str


@dataclass(frozen=True)
class RobotSpec:
    name: str
    folder: Path
    mjcf_path: Path
    root_body: str
    imu_site: str
    head_camera: str
    base_height: float
    control_rate_hz: float
    physics_dt: float
    joint_names: tuple[str, ...]  # actuated joints, wire order
    joint_groups: dict[str, tuple[str, ...]]
    end_effectors: dict[str, EndEffector]
    feet: dict[str, str]
    gripper_open: float
    gripper_closed: float
    default_q: np.ndarray
    kp: np.ndarray
    kd: np.ndarray
    q_lower: np.ndarray
    q_upper: np.ndarray
    torque_limit: np.ndarray
    action_scale: float
    policies: dict[str, PolicyArtifact]

    @property
    def n_joints(self) -> int:
        return len(self.joint_names)

    @property
    def substeps(self) -> int:
        return int(round(1.0 / (self.control_rate_hz * self.physics_dt)))

    def indices(self, group_or_groups: str | tuple[str, ...]) -> np.ndarray:
        """Wire indices of the joints in one or more joint groups, in group order."""
        groups = (group_or_groups,) if isinstance(group_or_groups, str) else group_or_groups
        pos = {n: i for i, n in enumerate(self.joint_names)}
        return np.array([pos[j] for g in groups for j in self.joint_groups[g]], dtype=np.int64)

    def policy(self, name: str) -> PolicyArtifact:
        if name not in self.policies:
            raise SpecError(
                f"robot '{self.name}' has no policy '{name}' in {self.folder / 'manifest.yaml'}; "
                f"known: {sorted(self.policies) or 'none'}. Train one with `python -m control.train.train_stand`."
            )
        return self.policies[name]

    def with_policy_file(self, name: str, path: str | Path) -> RobotSpec:
        """This robot with policy `name` read from `path` instead of the manifest's: how a
        candidate is measured before it is promoted (the benchmarks' `--policy`, the walking
        tests). The file is pinned to the sha256 it has now, so the runtime's check still holds."""
        from control.policy import file_sha256  # the one hashing rule the runtime checks with

        path = Path(path).resolve()
        if not path.is_file():
            raise SpecError(f"policy '{name}': no file {path}")
        return replace(self, policies={**self.policies, name: PolicyArtifact(name, path, file_sha256(path), None)})


def _require(d: dict, key: str, where: str):
    if key not in d:
        raise SpecError(f"{where}: missing required field '{key}'")
    return d[key]


def load_robot_spec(name_or_path: str | Path = DEFAULT_ROBOT) -> RobotSpec:
    """Load a robot by name (a folder under robots/) or by the path of its folder or manifest."""
    p = Path(name_or_path)
    if p.is_file():
        folder, manifest_path = p.parent, p
    elif p.is_dir():
        folder, manifest_path = p, p / "manifest.yaml"
    else:
        folder = ROBOTS_DIR / str(name_or_path)
        manifest_path = folder / "manifest.yaml"
    if not manifest_path.is_file():
        known = sorted(d.name for d in ROBOTS_DIR.iterdir() if (d / "manifest.yaml").is_file())
        raise SpecError(f"unknown robot spec '{name_or_path}': no {manifest_path}. Known robots: {known}")
    where = str(manifest_path)
    try:
        m = yaml.safe_load(manifest_path.read_text())
    except yaml.YAMLError as exc:
        raise SpecError(f"{where}: not valid YAML: {exc}") from None
    if not isinstance(m, dict):
        raise SpecError(f"{where}: expected a mapping at the top level")

    mjcf_path = folder / _require(m, "mjcf", where)
    try:
        model = mujoco.MjModel.from_xml_path(str(mjcf_path))
    except Exception as exc:
        raise SpecError(f"{where}: MJCF {mjcf_path} does not load: {exc}") from None
    joint_names = tuple(model.joint(model.actuator_trnid[a, 0]).name for a in range(model.nu))
    groups = {g: tuple(js) for g, js in _require(m, "joint_groups", where).items()}
    for g, js in groups.items():
        for j in js:
            if j not in joint_names:
                raise SpecError(f"{where}: joint group '{g}' names '{j}', which is not an actuated joint of {mjcf_path.name}")

    n = len(joint_names)
    default_q = np.zeros(n)
    for j, v in (m.get("default_pose") or {}).items():
        if j not in joint_names:
            raise SpecError(f"{where}: default_pose names unknown joint '{j}'")
        default_q[joint_names.index(j)] = float(v)
    kp, kd = np.zeros(n), np.zeros(n)
    for g, gains in _require(m, "pd_gains", where).items():
        if g not in groups:
            raise SpecError(f"{where}: pd_gains names unknown joint group '{g}'")
        for j in groups[g]:
            kp[joint_names.index(j)] = float(gains["kp"])
            kd[joint_names.index(j)] = float(gains["kd"])
    for j, gains in (m.get("pd_overrides") or {}).items():
        if j not in joint_names:
            raise SpecError(f"{where}: pd_overrides names unknown joint '{j}'")
        kp[joint_names.index(j)] = float(gains["kp"])
        kd[joint_names.index(j)] = float(gains["kd"])
    if np.any(kp <= 0):
        missing = [joint_names[i] for i in np.flatnonzero(kp <= 0)]
        raise SpecError(f"{where}: no PD gains for joints {missing}")

    jnt_ids = model.actuator_trnid[:, 0]
    q_lower = model.jnt_range[jnt_ids, 0].copy()
    q_upper = model.jnt_range[jnt_ids, 1].copy()
    torque_limit = np.abs(model.actuator_ctrlrange[:, 1]).copy()

    ees = {}
    for side, e in _require(m, "end_effectors", where).items():
        ees[side] = EndEffector(side, e["arm"], e["gripper"], e["grasp_site"], e["tip_site"], e["hand_body"])

    policies = {}
    for pname, pinfo in (m.get("policies") or {}).items():
        card = pinfo.get("model_card")
        policies[pname] = PolicyArtifact(
            name=pname,
            path=folder / _require(pinfo, "file", f"{where}: policies.{pname}"),
            sha256=str(_require(pinfo, "sha256", f"{where}: policies.{pname}")),
            model_card=folder / card if card else None,
        )

    rate, dt = float(_require(m, "control_rate_hz", where)), float(_require(m, "physics_dt", where))
    substeps = 1.0 / (rate * dt) if rate > 0 and dt > 0 else 0.0
    if substeps < 1 or abs(substeps - round(substeps)) > 1e-6:
        raise SpecError(
            f"{where}: control_rate_hz {rate} and physics_dt {dt} must give a whole number (>= 1) of "
            f"physics steps per control period, got {substeps:.3f}"
        )
    unlimited = [joint_names[i] for i, j in enumerate(jnt_ids) if not model.jnt_limited[j]]
    if unlimited:
        raise SpecError(f"{where}: actuated joints need a range in the MJCF (the safety clamp uses it): {unlimited}")
    if np.any(torque_limit <= 0):
        bad = [joint_names[i] for i in np.flatnonzero(torque_limit <= 0)]
        raise SpecError(f"{where}: actuators need a ctrlrange (their torque limit): {bad}")

    grip = m.get("gripper", {})
    return RobotSpec(
        name=str(_require(m, "name", where)),
        folder=folder,
        mjcf_path=mjcf_path,
        root_body=str(_require(m, "root_body", where)),
        imu_site=str(m.get("imu_site", "imu")),
        head_camera=str(m.get("head_camera", "")),
        base_height=float(_require(m, "base_height", where)),
        control_rate_hz=float(_require(m, "control_rate_hz", where)),
        physics_dt=float(_require(m, "physics_dt", where)),
        joint_names=joint_names,
        joint_groups=groups,
        end_effectors=ees,
        feet=dict(_require(m, "feet", where)),
        gripper_open=float(grip.get("open", 0.05)),
        gripper_closed=float(grip.get("closed", 0.0)),
        default_q=default_q,
        kp=kp,
        kd=kd,
        q_lower=q_lower,
        q_upper=q_upper,
        torque_limit=torque_limit,
        action_scale=float(_require(m, "action_scale", where)),
        policies=policies,
    )
