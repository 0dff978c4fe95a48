"""The motion layer's own copy of the world: kinematics and collision checks for planning.

`CollisionModel` holds a private copy of `World.model` and its own `MjData`, synced from the
latest `RobotState` + `WorldObservation` (robot base pose and joints, object poses). Planning
moves one arm in this copy and asks MuJoCo's collision detector whether that arm, or the
object it holds, touches anything it should not. It never touches the simulator's data, so
the same inputs always give the same answers.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import mujoco
import numpy as np

from bridge.messages import RobotState, WorldObservation
from scenarios.world import World

# Extra distance at which MuJoCo reports contacts in this copy, so that a clearance to the
# world can be demanded without changing the simulator's model.
CONTACT_MARGIN_M = 0.03
DEFAULT_CLEARANCE_M = 0.01  # arm (and held object) vs the world while planning
BOUND_MARGIN_RAD = 0.03  # plan inside the joint range: the safety monitor clamps at 0.02


@dataclass(frozen=True)
class Collision:
    """One offending contact, named so that a person can read a failure."""

    body1: str
    body2: str
    distance: float

    def __str__(self) -> str:
        return f"{self.body1}<->{self.body2} ({self.distance * 1000:+.1f} mm)"


def _subtree(model: mujoco.MjModel, root: int) -> set[int]:
    out = {root}
    for b in range(root + 1, model.nbody):
        if model.body_parentid[b] in out:
            out.add(b)
    return out


def _quat_to_mat(q: np.ndarray) -> np.ndarray:
    m = np.zeros(9)
    mujoco.mju_quat2Mat(m, np.asarray(q, dtype=np.float64))
    return m.reshape(3, 3)


def _mat_to_quat(m: np.ndarray) -> np.ndarray:
    q = np.zeros(4)
    mujoco.mju_mat2Quat(q, np.asarray(m, dtype=np.float64).reshape(9))
    return q


class CollisionModel:
    """World geometry for planning, synced from observations; one arm moves at a time."""

    def __init__(self, world: World, clearance: float = DEFAULT_CLEARANCE_M) -> None:
        self.world = world
        self.spec = world.robot
        self.model = copy.deepcopy(world.model)
        self.model.geom_margin[:] = CONTACT_MARGIN_M
        self.data = mujoco.MjData(self.model)
        self.clearance = clearance
        m = self.model
        ref = world.initial_data()
        self.data.qpos[:] = ref.qpos
        mujoco.mj_kinematics(m, self.data)

        self.q_robot = self.spec.default_q.copy()  # wire order, what the model is posed in
        root = m.body(self.spec.root_body).id
        self.robot_bodies = _subtree(m, root)
        self.arm_idx = {s: self.spec.indices(ee.arm) for s, ee in self.spec.end_effectors.items()}
        self.grip_idx = {s: self.spec.indices(ee.gripper) for s, ee in self.spec.end_effectors.items()}
        self._arm_qadr = {s: world.robot_qpos_adr[i] for s, i in self.arm_idx.items()}
        self.arm_bodies: dict[str, set[int]] = {}
        self.hand_bodies: dict[str, set[int]] = {}
        for side, ee in self.spec.end_effectors.items():
            first_joint = m.joint(self.spec.joint_groups[ee.arm][0]).id
            self.arm_bodies[side] = _subtree(m, int(m.jnt_bodyid[first_joint]))
            self.hand_bodies[side] = _subtree(m, m.body(ee.hand_body).id)
        self.bounds = {
            s: (self.spec.q_lower[i] + BOUND_MARGIN_RAD, self.spec.q_upper[i] - BOUND_MARGIN_RAD)
            for s, i in self.arm_idx.items()
        }
        self._arm_geoms = {
            s: np.array(
                [
                    g
                    for g in range(m.ngeom)
                    if m.geom_bodyid[g] in bodies and m.geom_contype[g] | m.geom_conaffinity[g]
                ]
            )
            for s, bodies in self.arm_bodies.items()
        }
        # Free-floating objects of the catalogue: their poses come from the observation.
        self._free_qadr: dict[str, int] = {}
        self.object_body: dict[str, int] = {}
        for oid in world.objects:
            bid = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, oid)
            if bid < 0:
                continue
            self.object_body[oid] = bid
            jadr = m.body_jntadr[bid]
            if jadr >= 0 and m.jnt_type[jadr] == mujoco.mjtJoint.mjJNT_FREE:
                self._free_qadr[oid] = int(m.jnt_qposadr[jadr])
        self.held: dict[str, tuple[str, np.ndarray, np.ndarray]] = {}  # side -> (obj, pos, rot in hand)
        self.free_objects = frozenset(self._free_qadr)
        self._robot_mask = np.zeros(m.nbody, dtype=bool)
        self._robot_mask[list(self.robot_bodies)] = True
        self._arm_mask = {}
        for side, bodies in self.arm_bodies.items():
            self._arm_mask[side] = np.zeros(m.nbody, dtype=bool)
            self._arm_mask[side][list(bodies)] = True
        self._allowed_cache: dict[tuple, np.ndarray] = {}

    # --- syncing ------------------------------------------------------------------------
    def sync(self, state: RobotState, obs: WorldObservation | None = None) -> None:
        """Pose the copy as observed: base, joints, free objects; attach objects reported in hand."""
        d, w = self.data, self.world
        a = w.root_qpos_adr
        d.qpos[a : a + 3] = state.base_pos
        d.qpos[a + 3 : a + 7] = state.base_quat
        self.q_robot = np.asarray(state.q, dtype=np.float64).copy()
        d.qpos[w.robot_qpos_adr] = self.q_robot
        held_now: dict[str, str] = {}
        if obs is not None:
            for o in obs.objects:
                qa = self._free_qadr.get(o.id)
                if qa is None or o.pos is None:
                    continue
                d.qpos[qa : qa + 3] = o.pos
                d.qpos[qa + 3 : qa + 7] = o.quat
                side = o.attrs.get("in_hand")
                if side in self.spec.end_effectors:
                    held_now[side] = o.id
        mujoco.mj_kinematics(self.model, d)
        self.held = {}
        for side, oid in held_now.items():
            self.attach(oid, side)

    def attach(self, obj: str, side: str) -> None:
        """From now on `obj` moves rigidly with `side`'s hand (as it is posed now)."""
        if obj not in self._free_qadr:
            raise KeyError(f"cannot attach '{obj}': not a free object of scene '{self.world.scene}'")
        d = self.data
        hb = self.model.body(self.spec.end_effectors[side].hand_body).id
        ob = self.object_body[obj]
        r_h = d.xmat[hb].reshape(3, 3)
        pos = r_h.T @ (d.xpos[ob] - d.xpos[hb])
        rot = r_h.T @ d.xmat[ob].reshape(3, 3)
        self.held[side] = (obj, pos, rot)

    def detach(self, side: str) -> None:
        self.held.pop(side, None)

    def set_joint(self, joint: int, value: float) -> None:
        """Pose a scene joint (a door hinge, a drawer slide) the observation does not report."""
        self.data.qpos[self.model.jnt_qposadr[joint]] = value
        mujoco.mj_kinematics(self.model, self.data)

    def set_object_pose(self, obj: str, pos: np.ndarray, quat: np.ndarray | None = None) -> None:
        qa = self._free_qadr[obj]
        self.data.qpos[qa : qa + 3] = pos
        if quat is not None:
            self.data.qpos[qa + 3 : qa + 7] = quat
        mujoco.mj_kinematics(self.model, self.data)

    # --- posing -------------------------------------------------------------------------
    def arm_q(self, side: str) -> np.ndarray:
        return self.data.qpos[self._arm_qadr[side]].copy()

    def set_arm(self, side: str, q_arm: np.ndarray) -> None:
        """Pose one arm (and whatever it holds) and update kinematics."""
        d = self.data
        d.qpos[self._arm_qadr[side]] = q_arm
        mujoco.mj_kinematics(self.model, d)
        if side in self.held:
            obj, pos, rot = self.held[side]
            hb = self.model.body(self.spec.end_effectors[side].hand_body).id
            r_h = d.xmat[hb].reshape(3, 3)
            qa = self._free_qadr[obj]
            d.qpos[qa : qa + 3] = d.xpos[hb] + r_h @ pos
            d.qpos[qa + 3 : qa + 7] = _mat_to_quat(r_h @ rot)
            mujoco.mj_kinematics(self.model, d)

    def set_gripper(self, side: str, opening: float) -> None:
        """Finger positions for an opening in [0, 1] (as `MotionRequest.gripper` means it)."""
        s = self.spec
        q = s.gripper_closed + float(np.clip(opening, 0.0, 1.0)) * (s.gripper_open - s.gripper_closed)
        self.data.qpos[self.world.robot_qpos_adr[self.grip_idx[side]]] = q
        mujoco.mj_kinematics(self.model, self.data)

    def gravity_offset(self, side: str, qs: np.ndarray) -> np.ndarray:
        """Joint offsets (k, 7) that make a PD joint settle at `qs` under gravity: g(q) / kp.

        The robot runs plain PD on the targets, so an arm held against gravity settles
        g(q) / kp short of its target; asking for q + g(q) / kp lands it on q. The weight of a
        held object is included through the hand's Jacobian.
        """
        m, d = self.model, self.data
        idx = self.arm_idx[side]
        dofs = self.world.robot_dof_adr[idx]
        kp = self.spec.kp[idx]
        q_saved = self.arm_q(side)
        qvel = d.qvel.copy()
        d.qvel[:] = 0.0
        out = np.zeros((len(qs), len(idx)))
        bias = np.zeros(m.nv)
        jac = np.zeros((3, m.nv))
        held = self.held.get(side)
        hb = m.body(self.spec.end_effectors[side].hand_body).id
        for i, q in enumerate(qs):
            self.set_arm(side, q)
            mujoco.mj_comPos(m, d)
            mujoco.mj_rne(m, d, 0, bias)
            tau = bias[dofs].copy()
            if held is not None:
                ob = self.object_body[held[0]]
                mujoco.mj_jac(m, d, jac, None, d.xipos[ob], hb)
                tau += jac[:, dofs].T @ (-m.opt.gravity * m.body_subtreemass[ob])
            out[i] = tau / kp
        d.qvel[:] = qvel
        self.set_arm(side, q_saved)
        return out

    def site_pose(self, site: str) -> tuple[np.ndarray, np.ndarray]:
        sid = self.model.site(site).id
        return self.data.site_xpos[sid].copy(), self.data.site_xmat[sid].reshape(3, 3).copy()

    def body_pose(self, body: str) -> tuple[np.ndarray, np.ndarray]:
        bid = self.model.body(body).id
        return self.data.xpos[bid].copy(), self.data.xmat[bid].reshape(3, 3).copy()

    # --- collision checks ---------------------------------------------------------------
    def collisions(
        self,
        side: str,
        allowed: frozenset[tuple[int, int]] = frozenset(),
        clearance: float | None = None,
        first_only: bool = False,
    ) -> list[Collision]:
        """Contacts of `side`'s arm (and held object) that are not allowed, as posed now.

        Against the world the arm keeps `clearance`; against the robot's own body and the
        other arm only real penetration counts (the arm rests close to the torso). `allowed`
        holds (body, body) pairs that may touch, e.g. the hand and the object it is about to grasp.
        """
        m, d = self.model, self.data
        clear = self.clearance if clearance is None else clearance
        mujoco.mj_collision(m, d)
        out: list[Collision] = []
        if d.ncon:
            b = m.geom_bodyid[d.contact.geom]  # (ncon, 2) bodies in contact
            dist = d.contact.dist
            moving = self._moving_mask(side)
            arm = self._arm_mask[side]
            in1, in2 = moving[b[:, 0]], moving[b[:, 1]]
            both = in1 & in2
            other = np.where(in1, b[:, 1], b[:, 0])
            # held object vs its own arm, or the arm vs the robot's body: penetration only
            limit = np.where(both | self._robot_mask[other], 0.0, clear)
            bad = (in1 | in2) & ~(arm[b[:, 0]] & arm[b[:, 1]]) & (dist < limit)
            bad &= ~self._allowed_matrix(side, allowed)[b[:, 0], b[:, 1]]
            for i in np.flatnonzero(bad):
                out.append(Collision(m.body(b[i, 0]).name, m.body(b[i, 1]).name, float(dist[i])))
                if first_only:
                    return out
        out += self._cross_arm(side, first_only, self._allowed_matrix(side, allowed))
        return out

    def _moving_mask(self, side: str) -> np.ndarray:
        mask = self._arm_mask[side].copy()
        if side in self.held:
            mask[self.object_body[self.held[side][0]]] = True
        return mask

    def _allowed_matrix(self, side: str, allowed: frozenset[tuple[int, int]]) -> np.ndarray:
        held = self.held[side][0] if side in self.held else None
        key = (side, held, allowed)
        mat = self._allowed_cache.get(key)
        if mat is None:
            mat = np.zeros((self.model.nbody, self.model.nbody), dtype=bool)
            pairs = set(allowed)
            if held is not None:
                ob = self.object_body[held]
                pairs |= {(ob, h) for h in self.hand_bodies[side]}
            for a, b in pairs:
                mat[a, b] = mat[b, a] = True
            if len(self._allowed_cache) > 64:
                self._allowed_cache.clear()
            self._allowed_cache[key] = mat
        return mat

    def _cross_arm(self, side: str, first_only: bool, allowed: np.ndarray) -> list[Collision]:
        """The two arms never collide in the simulator's filters; a plan must still keep them apart."""
        m, d = self.model, self.data
        other = next(s for s in self.arm_bodies if s != side)
        mine, theirs = self._arm_geoms[side], self._arm_geoms[other]
        if side in self.held:
            ob = self.object_body[self.held[side][0]]
            mine = np.concatenate([mine, np.flatnonzero(m.geom_bodyid == ob)])
        gap = np.linalg.norm(d.geom_xpos[mine][:, None, :] - d.geom_xpos[theirs][None, :, :], axis=2)
        near = gap < m.geom_rbound[mine][:, None] + m.geom_rbound[theirs][None, :]
        out = []
        fromto = np.zeros(6)
        for i, j in zip(*np.nonzero(near), strict=True):
            g1, g2 = int(mine[i]), int(theirs[j])
            if allowed[m.geom_bodyid[g1], m.geom_bodyid[g2]]:
                continue
            dist = mujoco.mj_geomDistance(m, d, g1, g2, 0.01, fromto)
            if dist < 0.0:
                out.append(
                    Collision(m.body(m.geom_bodyid[g1]).name, m.body(m.geom_bodyid[g2]).name, float(dist))
                )
                if first_only:
                    break
        return out

    def arm_state_valid(
        self,
        side: str,
        q_arm: np.ndarray,
        allowed: frozenset[tuple[int, int]] = frozenset(),
        clearance: float | None = None,
    ) -> bool:
        lo, hi = self.bounds[side]
        if np.any(q_arm < lo - 1e-9) or np.any(q_arm > hi + 1e-9):
            return False
        self.set_arm(side, q_arm)
        return not self.collisions(side, allowed, clearance, first_only=True)

    def body_pairs(self, bodies_a: set[int] | str, bodies_b: set[int] | str) -> frozenset[tuple[int, int]]:
        """All (a, b) body pairs, for `allowed`; names are looked up as bodies."""
        a = {self.model.body(bodies_a).id} if isinstance(bodies_a, str) else bodies_a
        b = {self.model.body(bodies_b).id} if isinstance(bodies_b, str) else bodies_b
        return frozenset((x, y) for x in a for y in b)


def quat_to_mat(q: np.ndarray) -> np.ndarray:
    return _quat_to_mat(q)


def mat_to_quat(m: np.ndarray) -> np.ndarray:
    return _mat_to_quat(m)
