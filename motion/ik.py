"""Inverse kinematics for one arm with mink: a site's pose from that arm's 7 joints only.

The robot model alone (no scene) is posed as observed: floating base, legs, waist and the
other arm stay where they are (mink `DofFreezingTask` as an equality constraint), joint limits
are respected (`ConfigurationLimit`). A fixed, bounded list of seeds is tried in order (the
current arm pose first), so the same query always gives the same answer. A solution can be
required to be collision-free through `accept`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import mink
import mujoco
import numpy as np

from humanoid.robot_spec import RobotSpec

POSITION_TOL_M = 0.004
ORIENTATION_TOL_RAD = 0.04
N_RANDOM_SEEDS = 6  # deterministic extra seeds (fixed RNG seed) after the given ones
LIMIT_MARGIN_RAD = 0.03  # stay this far inside joint ranges (the safety monitor clamps at 0.02)


@dataclass(frozen=True)
class IKTarget:
    """Where a site should go: world position, and a world rotation unless position-only.

    `free_axis` (site-local 0, 1 or 2) leaves rotation about that axis free, e.g. a fingertip
    that must point along the press direction but may roll about it.
    """

    site: str  # a site name, or a body name when `frame_type` is "body"
    pos: np.ndarray
    rot: np.ndarray | None = None
    free_axis: int | None = None
    frame_type: str = "site"
    orientation_cost: float = 1.0  # lower it to let position win when the target is at arm's length
    orientation_tol: float = ORIENTATION_TOL_RAD


@dataclass(frozen=True)
class IKResult:
    q: np.ndarray | None  # the arm's joints (spec group order), None when no seed converged
    position_error: float  # of the best attempt, m
    orientation_error: float  # of the best attempt, rad
    seed_index: int  # which seed gave `q` (or the best attempt)
    attempts: int
    best_q: np.ndarray | None = None  # the closest attempt (within limits) even when `q` is None

    @property
    def ok(self) -> bool:
        return self.q is not None


class ArmIK:
    """mink IK on the robot model; one call solves one arm for one site target."""

    def __init__(self, spec: RobotSpec, max_iters: int = 120, dt: float = 0.1) -> None:
        self.spec = spec
        self.model = mujoco.MjModel.from_xml_path(str(spec.mjcf_path))
        m = self.model
        self.max_iters = max_iters
        self.dt = dt
        self.config = mink.Configuration(m)
        jids = [m.joint(j).id for j in spec.joint_names]
        self.qadr = np.array([m.jnt_qposadr[j] for j in jids])
        self.dofadr = np.array([m.jnt_dofadr[j] for j in jids])
        root_j = m.body_jntadr[m.body(spec.root_body).id]
        self.root_qadr = int(m.jnt_qposadr[root_j])
        self.arm_idx = {s: spec.indices(ee.arm) for s, ee in spec.end_effectors.items()}
        self.freeze = {}
        for side, idx in self.arm_idx.items():
            moving = set(self.dofadr[idx].tolist())
            frozen = [i for i in range(m.nv) if i not in moving]
            self.freeze[side] = mink.DofFreezingTask(m, dof_indices=frozen)
        # Margin-free limits here (a finger's 55 mm range cannot hold a 30 mm margin); the arm's
        # margin is enforced by clipping the result and checking the error again.
        self.limits = [mink.ConfigurationLimit(m)]
        self.lower = spec.q_lower + LIMIT_MARGIN_RAD
        self.upper = spec.q_upper - LIMIT_MARGIN_RAD
        rng = np.random.default_rng(0)
        self.random_seeds = {
            s: [rng.uniform(self.lower[i], self.upper[i]) for _ in range(N_RANDOM_SEEDS)]
            for s, i in self.arm_idx.items()
        }

    def _pose_robot(self, q_robot: np.ndarray, base_pos: np.ndarray, base_quat: np.ndarray) -> np.ndarray:
        q = self.model.qpos0.copy()
        q[self.root_qadr : self.root_qadr + 3] = base_pos
        q[self.root_qadr + 3 : self.root_qadr + 7] = base_quat
        q[self.qadr] = np.clip(q_robot, self.spec.q_lower, self.spec.q_upper)
        return q

    def forward(
        self,
        side: str,
        site: str,
        q_arm: np.ndarray,
        q_robot: np.ndarray,
        base_pos: np.ndarray,
        base_quat: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """World pose (pos, rot) of `site` with `side`'s arm at `q_arm`."""
        q = self._pose_robot(q_robot, base_pos, base_quat)
        q[self.qadr[self.arm_idx[side]]] = q_arm
        self.config.update(q)
        sid = self.model.site(site).id
        return self.config.data.site_xpos[sid].copy(), self.config.data.site_xmat[sid].reshape(3, 3).copy()

    def solve(
        self,
        side: str,
        target: IKTarget,
        q_robot: np.ndarray,
        base_pos: np.ndarray,
        base_quat: np.ndarray,
        seeds: Sequence[np.ndarray] = (),
        accept: Callable[[np.ndarray], bool] | None = None,
        max_seeds: int | None = None,
    ) -> IKResult:
        """Arm joints that put `target.site` at the target, or `q=None` with the best residual.

        Seeds are tried in order: `seeds`, the arm's current joints, then a fixed set of
        deterministic samples. `accept(q_arm)` (e.g. a collision check) can veto a solution.
        """
        idx = self.arm_idx[side]
        lo, hi = self.lower[idx], self.upper[idx]
        candidates = [np.asarray(s, dtype=np.float64) for s in seeds]
        candidates += [np.asarray(q_robot, dtype=np.float64)[idx]] + self.random_seeds[side]
        candidates = candidates[:max_seeds]
        task = mink.FrameTask(
            target.site, target.frame_type, position_cost=1.0, orientation_cost=self._ori_cost(target)
        )
        posture = mink.PostureTask(self.model, cost=1e-3)
        base = self._pose_robot(q_robot, base_pos, base_quat)
        task.set_target(self._target_se3(target))
        best = (np.inf, np.inf, -1)
        best_q = None
        for k, seed in enumerate(candidates):
            q = base.copy()
            q[self.qadr[idx]] = np.clip(seed, lo, hi)
            self.config.update(q)
            posture.set_target(q)
            pos_err, ori_err = self._iterate(side, target, task, posture)
            if pos_err + ori_err * 0.1 < best[0] + best[1] * 0.1:
                best = (pos_err, ori_err, k)
                best_q = np.clip(self.config.q[self.qadr[idx]], lo, hi)
            if pos_err < POSITION_TOL_M and ori_err < target.orientation_tol:
                q_arm = np.clip(self.config.q[self.qadr[idx]], lo, hi)
                q = self.config.q.copy()
                q[self.qadr[idx]] = q_arm
                self.config.update(q)
                pos_err, ori_err = self._errors(target)
                if pos_err >= POSITION_TOL_M or ori_err >= target.orientation_tol:
                    continue
                if accept is None or accept(q_arm):
                    return IKResult(q_arm, pos_err, ori_err, k, k + 1, q_arm)
        return IKResult(None, float(best[0]), float(best[1]), best[2], len(candidates), best_q)

    def _iterate(
        self, side: str, target: IKTarget, task: mink.FrameTask, posture: mink.PostureTask
    ) -> tuple[float, float]:
        pos_err = ori_err = np.inf
        for _ in range(self.max_iters):
            pos_err, ori_err = self._errors(target)
            if pos_err < POSITION_TOL_M * 0.25 and ori_err < target.orientation_tol * 0.25:
                break
            v = mink.solve_ik(
                self.config,
                [task, posture],
                self.dt,
                solver="daqp",
                damping=1e-3,
                limits=self.limits,
                constraints=[self.freeze[side]],
                safety_break=False,
            )
            self.config.integrate_inplace(v, self.dt)
        return self._errors(target)

    def _errors(self, target: IKTarget) -> tuple[float, float]:
        d = self.config.data
        if target.frame_type == "body":
            bid = self.model.body(target.site).id
            p, r = d.xpos[bid], d.xmat[bid].reshape(3, 3)
        else:
            sid = self.model.site(target.site).id
            p, r = d.site_xpos[sid], d.site_xmat[sid].reshape(3, 3)
        pos_err = float(np.linalg.norm(p - target.pos))
        if target.rot is None:
            return pos_err, 0.0
        if target.free_axis is not None:
            a = target.free_axis
            cos = float(np.clip(r[:, a] @ target.rot[:, a], -1.0, 1.0))
            return pos_err, float(np.arccos(cos))
        cos = (np.trace(target.rot.T @ r) - 1.0) / 2.0
        return pos_err, float(np.arccos(np.clip(cos, -1.0, 1.0)))

    @staticmethod
    def _ori_cost(target: IKTarget) -> np.ndarray | float:
        if target.rot is None:
            return 0.0
        cost = np.full(3, target.orientation_cost)
        if target.free_axis is not None:
            cost[target.free_axis] = 0.0
        return cost

    @staticmethod
    def _target_se3(target: IKTarget) -> mink.SE3:
        rot = np.eye(3) if target.rot is None else target.rot
        return mink.SE3.from_rotation_and_translation(
            mink.SO3.from_matrix(rot), np.asarray(target.pos, dtype=np.float64)
        )
