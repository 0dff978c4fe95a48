"""What every skill shares: the skill context, the motion primitives and the typed failure.

A skill is a short sequence of motions: plan an arm move with OMPL (`move_arm`), follow a
straight Cartesian line with IK (`line`), open or close a gripper (`gripper`). Each motion is
one `MotionRequest` to the control loop through a `MotionClient` (in-process `ControlLoop`
or its ZeroMQ client), and its `MotionResult` re-syncs the collision model. A skill that
cannot go on raises `SkillFailure` with a reason from the closed set; the executor turns it
into a `SkillResult` for the planner.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import mujoco
import numpy as np

from bridge.messages import MotionRequest, MotionResult, RobotState, WorldObservation
from humanoid.contracts import FailureReason
from motion.arm_planner import ArmPlan, ArmPlanner
from motion.collision_model import CollisionModel, quat_to_mat
from motion.ik import ArmIK, IKTarget
from motion.trajectory import SLOW, TimingLimits, Trajectory, time_parameterize
from scenarios.world import World

SIDES = ("left", "right")  # MotionRequest order: arm_q is left_arm then right_arm, gripper (left, right)
LINE_STEP_M = 0.01  # Cartesian lines are solved by IK every centimetre
# how far an open hand backs out along its fingers after letting go; 10 cm left the fingers 8 mm
# from a mug just set under the coffee spout, too close for the next arm plan to start from
RETREAT_M = 0.13
MAX_LINE_JUMP_RAD = 0.2  # a larger joint change between two line points is an IK branch flip


class MotionClient(Protocol):
    """The control loop as the motion layer sees it (in-process or over ZeroMQ)."""

    def execute(self, req: MotionRequest) -> MotionResult: ...


class SkillFailure(Exception):
    """A skill stops: `reason` from the closed set, `observations` explain it to the planner."""

    def __init__(self, reason: FailureReason, message: str, **observations: Any) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.observations = observations


EventSink = Callable[[str, dict[str, Any]], None]


@dataclass
class SkillContext:
    """The motion layer's view while a skill runs; the executor owns one and passes it in."""

    world: World
    client: MotionClient
    model: CollisionModel
    ik: ArmIK
    planner: ArmPlanner
    emit: EventSink
    state: RobotState | None = None
    obs: WorldObservation | None = None
    arm_ref: np.ndarray = field(
        default_factory=lambda: np.zeros(0)
    )  # (14,) where the arms should be (plans start here)
    arm_cmd: np.ndarray = field(
        default_factory=lambda: np.zeros(0)
    )  # (14,) what was last sent (gravity offset included)
    grip_ref: np.ndarray = field(default_factory=lambda: np.ones(2))  # last commanded openings (left, right)
    skill: str = ""
    gravity_offset: bool = True  # the robot runs plain PD: ask for q + g(q)/kp to land on q
    _seq: int = 0

    @property
    def spec(self):
        return self.world.robot

    def cols(self, side: str) -> slice:
        return slice(0, 7) if side == "left" else slice(7, 14)

    def arm_q(self, side: str) -> np.ndarray:
        return self.arm_ref[self.cols(side)].copy()

    # --- observing ----------------------------------------------------------------------
    def observe(self) -> WorldObservation:
        """Ask the control loop for the current state (a request with no rows) and sync."""
        res = self._execute(
            MotionRequest(
                seq=self._next_seq(),
                times=np.zeros(0),
                arm_q=np.zeros((0, 14)),
                gripper=np.zeros((0, 2)),
                label="observe",
            )
        )
        self._check(res, "observe")
        return res.world

    def _absorb(self, res: MotionResult) -> None:
        if res.state is not None:
            self.state = res.state
            if self.arm_ref.size == 0:
                self.arm_ref = res.state.q[self.spec.indices(("left_arm", "right_arm"))].copy()
                self.arm_cmd = self.arm_ref.copy()
        if res.world is not None:
            self.obs = res.world
        if self.state is not None:
            self.model.sync(self.state, self.obs)

    def _execute(self, req: MotionRequest) -> MotionResult:
        res = self.client.execute(req)
        self._absorb(res)
        return res

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _check(self, res: MotionResult, label: str) -> None:
        if res.status == "ok":
            return
        # "rejected" is a request the control loop would not follow: our bug, not a safety stop.
        reason = {
            "bridge_down": FailureReason.BRIDGE_DOWN,
            "rejected": FailureReason.PRECONDITION_FAILED,
        }.get(res.status, FailureReason.SAFETY_STOP)
        raise SkillFailure(
            reason,
            f"motion '{label}' ended with status {res.status}: {res.detail}",
            status=res.status,
            detail=res.detail,
            safety_events=res.safety_events[-5:],
        )

    def object(self, oid: str):
        """The observed object, or NOT_FOUND."""
        o = self.obs.by_id().get(oid) if self.obs is not None else None
        if o is None or o.pos is None:
            raise SkillFailure(
                FailureReason.NOT_FOUND,
                f"'{oid}' is not in the world observation",
                object=oid,
                detail="not observed",
            )
        return o

    def holding(self, side: str) -> str | None:
        for o in self.obs.objects if self.obs else ():
            if o.attrs.get("in_hand") == side:
                return o.id
        return None

    # --- sending ------------------------------------------------------------------------
    def send(
        self,
        side: str,
        traj: Trajectory,
        label: str,
        opening: float | np.ndarray | None = None,
        settle_s: float = 0.2,
    ) -> MotionResult:
        """Follow `traj` with `side`'s arm; the other arm and gripper hold their references."""
        k = len(traj.times)
        arm = np.tile(self.arm_cmd, (k, 1))
        arm[:, self.cols(side)] = traj.q
        if self.gravity_offset:
            # references that make the PD joints settle on the plan (see CollisionModel.gravity_offset)
            arm[:, self.cols(side)] += self.model.gravity_offset(side, traj.q)
        grip = np.tile(self.grip_ref, (k, 1))
        if opening is not None:
            grip[:, SIDES.index(side)] = opening
        req = MotionRequest(
            seq=self._next_seq(),
            times=traj.times.copy(),
            arm_q=arm,
            gripper=grip,
            settle_s=settle_s,
            label=f"{self.skill}:{label}",
        )
        res = self._execute(req)
        self.arm_ref[self.cols(side)] = traj.q[-1]
        self.arm_cmd = arm[-1].copy()
        self.grip_ref = grip[-1].copy()
        self._check(res, label)
        return res

    def hold(self, duration_s: float, label: str) -> MotionResult:
        """Keep every reference where it is for `duration_s` of sim time (e.g. while a machine works)."""
        req = MotionRequest(
            seq=self._next_seq(),
            times=np.zeros(0),
            arm_q=np.zeros((0, len(self.arm_cmd))),
            gripper=np.zeros((0, 2)),
            settle_s=duration_s,
            label=f"{self.skill}:{label}",
        )
        res = self._execute(req)
        self._check(res, label)
        return res

    def walk(self, velocity: np.ndarray, duration_s: float, label: str) -> MotionResult:
        """Command the base velocity (vx, vy, wz in the heading frame) for `duration_s` of sim
        time, every arm and gripper reference held (a carried object stays in the hand)."""
        req = MotionRequest(
            seq=self._next_seq(),
            times=np.zeros(1),
            arm_q=self.arm_cmd[None, :].copy(),
            gripper=self.grip_ref[None, :].copy(),
            settle_s=duration_s,
            base_velocity=np.asarray(velocity, dtype=np.float64).copy(),
            label=f"{self.skill}:{label}",
        )
        res = self._execute(req)
        self._check(res, label)
        return res

    def gripper(
        self, side: str, opening: float, duration_s: float = 0.6, settle_s: float = 0.4
    ) -> MotionResult:
        """Open (1) or close (0) one gripper with the arm held still."""
        q = self.arm_q(side)
        steps = max(2, int(round(duration_s * 50)) + 1)
        times = np.linspace(0.0, duration_s, steps)
        start = self.grip_ref[SIDES.index(side)]
        traj = Trajectory(times, np.tile(q, (steps, 1)))
        self.emit_plan(side, f"gripper->{opening:g}", np.stack([q, q]), 0.0, "gripper", traj)
        return self.send(
            side, traj, f"gripper {opening:g}", opening=np.linspace(start, opening, steps), settle_s=settle_s
        )

    # --- planning -----------------------------------------------------------------------
    def plan_arm(
        self,
        side: str,
        q_goal: np.ndarray,
        label: str,
        allowed: frozenset = frozenset(),
        limits: TimingLimits | None = None,
    ) -> ArmPlan:
        plan = self.planner.plan(side, self.arm_q(side), q_goal, allowed, limits=limits)
        self.emit_plan(
            side, label, plan.waypoints, plan.planning_time_s, plan.status, plan.trajectory, plan.detail
        )
        if not plan.ok:
            raise SkillFailure(
                plan.reason,
                f"{self.skill}: no collision-free path for '{label}': {plan.detail}",
                arm=side,
                motion=label,
                planner_status=plan.status,
                detail=plan.detail,
            )
        return plan

    def move_arm(
        self,
        side: str,
        q_goal: np.ndarray,
        label: str,
        opening: float | None = None,
        allowed: frozenset = frozenset(),
    ) -> MotionResult:
        plan = self.plan_arm(side, q_goal, label, allowed)
        return self.send(side, plan.trajectory, label, opening=opening)

    def solve(
        self,
        side: str,
        target: IKTarget,
        label: str,
        seeds=(),
        allowed: frozenset = frozenset(),
        clearance: float | None = None,
    ) -> np.ndarray | None:
        """Collision-free IK for one arm, or None."""
        st = self.state
        q_robot = st.q.copy()
        q_robot[self.spec.indices(self.spec.end_effectors[side].arm)] = self.arm_q(side)
        q_saved = self.model.arm_q(side)

        def accept(q: np.ndarray) -> bool:
            return self.model.arm_state_valid(side, q, allowed, clearance)

        try:
            res = self.ik.solve(side, target, q_robot, st.base_pos, st.base_quat, seeds=seeds, accept=accept)
        finally:
            self.model.set_arm(side, q_saved)
        return res.q

    def line(
        self,
        side: str,
        frame: str,
        frame_type: str,
        rot: np.ndarray,
        p_from: np.ndarray,
        p_to: np.ndarray,
        q_from: np.ndarray,
        allowed: frozenset = frozenset(),
        clearance: float | None = None,
        free_axis: int | None = None,
        prefix: bool = False,
    ) -> np.ndarray | None:
        """Joint path that moves `frame` along the segment p_from->p_to at fixed orientation.

        `prefix`: where the line cannot go on, return the part up to there (None if not one step)."""
        n = max(1, int(np.ceil(np.linalg.norm(p_to - p_from) / LINE_STEP_M)))
        path = [np.asarray(q_from, dtype=np.float64)]
        for s in np.linspace(0.0, 1.0, n + 1)[1:]:
            target = IKTarget(
                frame, p_from + s * (p_to - p_from), rot, free_axis=free_axis, frame_type=frame_type
            )
            q = self.solve_local(side, target, path[-1], allowed, clearance)
            if q is None or np.abs(q - path[-1]).max() > MAX_LINE_JUMP_RAD:
                return np.asarray(path) if prefix and len(path) > 1 else None
            path.append(q)
        return np.asarray(path)

    def solve_local(
        self,
        side: str,
        target: IKTarget,
        seed: np.ndarray,
        allowed: frozenset,
        clearance: float | None,
        partial: bool = False,
    ) -> np.ndarray | None:
        """IK from one seed only (no random restarts): for small steps along a line.

        `partial` accepts the closest reachable pose when the target is out of reach."""
        st = self.state
        q_robot = st.q.copy()
        q_robot[self.spec.indices(self.spec.end_effectors[side].arm)] = seed
        res = self.ik.solve(side, target, q_robot, st.base_pos, st.base_quat, seeds=[seed], max_seeds=1)
        q = res.q if res.q is not None or not partial else res.best_q
        if q is None:
            return None
        q_saved = self.model.arm_q(side)
        ok = self.model.arm_state_valid(side, q, allowed, clearance)
        self.model.set_arm(side, q_saved)
        return q if ok else None

    def frame_pose(self, side: str, frame: str, frame_type: str = "site") -> tuple[np.ndarray, np.ndarray]:
        """Measured world pose of a site or body (the model is synced to the last state)."""
        return self.model.body_pose(frame) if frame_type == "body" else self.model.site_pose(frame)

    def back_out(
        self,
        side: str,
        frame: str,
        frame_type: str,
        label: str,
        allowed: frozenset = frozenset(),
        rot: np.ndarray | None = None,
    ) -> bool:
        """Back the open hand out along its fingers (the frame's z axis), holding `rot` (default:
        the frame's measured orientation): `RETREAT_M`, or as far as a straight path goes. False
        when not even one step is free; the caller decides whether that matters."""
        self.model.set_arm(side, self.arm_q(side))
        p_now, r_now = self.frame_pose(side, frame, frame_type)
        path = self.line(
            side,
            frame,
            frame_type,
            r_now if rot is None else rot,
            p_now,
            p_now + RETREAT_M * r_now[:, 2],
            self.arm_q(side),
            allowed=allowed,
            prefix=True,
        )
        if path is None:
            return False
        self.follow(side, path, label, opening=1.0, allowed=allowed)
        return True

    def servo(
        self,
        side: str,
        target: IKTarget,
        label: str,
        opening: float | None = None,
        allowed: frozenset = frozenset(),
        clearance: float | None = None,
        tol_m: float = 0.006,
        iters: int = 3,
        partial: bool = False,
    ) -> float:
        """Bring a frame onto `target` despite the body's sway: re-solve IK at the measured base
        pose and move there, at most `iters` times. Returns the remaining position error (m)."""
        err = float(np.linalg.norm(self.frame_pose(side, target.site, target.frame_type)[0] - target.pos))
        for _ in range(iters):
            if err < tol_m:
                break
            q = self.solve_local(side, target, self.arm_q(side), allowed, clearance, partial=partial)
            if q is None or np.abs(q - self.arm_q(side)).max() < 1e-3:
                break
            self.follow(
                side,
                np.stack([self.arm_q(side), q]),
                label,
                opening=opening,
                allowed=allowed,
                clearance=clearance,
                settle_s=0.4,
            )
            err = float(np.linalg.norm(self.frame_pose(side, target.site, target.frame_type)[0] - target.pos))
        return err

    def follow(
        self,
        side: str,
        path: np.ndarray,
        label: str,
        opening: float | None = None,
        allowed: frozenset = frozenset(),
        clearance: float | None = None,
        limits: TimingLimits = SLOW,
        settle_s: float = 0.3,
    ) -> MotionResult:
        """Time a short joint path slowly, re-check every 50 Hz sample, and execute it."""
        traj = time_parameterize(path, limits, stop_at_waypoints=False)
        q_saved = self.model.arm_q(side)
        bad = self.planner.first_invalid(side, traj.q, allowed, clearance=clearance)
        hits = self.model.collisions(side, allowed, clearance) if bad is not None else []
        self.model.set_arm(side, q_saved)
        status = "line" if bad is None else "invalid_densified_state"
        self.emit_plan(side, label, path, 0.0, status, traj)
        if bad is not None:
            what = ", ".join(map(str, hits[:3]))
            raise SkillFailure(
                FailureReason.NO_COLLISION_FREE_PATH,
                f"{self.skill}: '{label}' collides at t={traj.times[bad]:.2f}s: {what}",
                arm=side,
                motion=label,
                collisions=[str(h) for h in hits[:3]],
            )
        return self.send(side, traj, label, opening=opening, settle_s=settle_s)

    def emit_plan(
        self,
        side: str,
        label: str,
        waypoints: np.ndarray | None,
        planning_time_s: float,
        status: str,
        traj: Trajectory | None = None,
        detail: str = "",
    ) -> None:
        self.emit(
            "motion_plan",
            {
                "skill": self.skill,
                "motion": label,
                "arm": side,
                "joint_names": list(self.spec.joint_groups[self.spec.end_effectors[side].arm]),
                "waypoints": [] if waypoints is None else np.round(waypoints, 5).tolist(),
                "planning_time_s": round(planning_time_s, 5),
                "status": status,
                "duration_s": None if traj is None else traj.duration,
                "samples": None if traj is None else len(traj.times),
                "detail": detail,
            },
        )


def hand_for(ctx: SkillContext, point: np.ndarray, requested: str | None = None) -> str:
    """The hand on the side of the robot where `point` is (base frame y), unless one is named."""
    if requested is not None:
        if requested not in ctx.spec.end_effectors:
            raise SkillFailure(
                FailureReason.PRECONDITION_FAILED,
                f"unknown hand '{requested}'; known: {sorted(ctx.spec.end_effectors)}",
                hand=requested,
            )
        return requested
    st = ctx.state
    local = quat_to_mat(st.base_quat).T @ (np.asarray(point) - st.base_pos)
    return "left" if local[1] >= 0.0 else "right"


def shoulder_pos(ctx: SkillContext, side: str) -> np.ndarray:
    m = ctx.model.model
    jid = m.joint(ctx.spec.joint_groups[ctx.spec.end_effectors[side].arm][0]).id
    return ctx.model.data.xpos[m.jnt_bodyid[jid]].copy()


def arm_reach(ctx: SkillContext, side: str, site: str) -> float:
    """Shoulder-to-site distance with the arm straight (all arm joints at zero): nothing farther
    can be reached, so IK need not be tried."""
    m = ctx.model
    q_saved = m.arm_q(side)
    m.set_arm(side, np.zeros(len(q_saved)))
    reach = float(np.linalg.norm(m.site_pose(site)[0] - shoulder_pos(ctx, side)))
    m.set_arm(side, q_saved)
    return reach


def out_of_reach(ctx: SkillContext, side: str, site: str, point: np.ndarray, margin: float = 0.02) -> bool:
    return (
        float(np.linalg.norm(np.asarray(point) - shoulder_pos(ctx, side)))
        > arm_reach(ctx, side, site) + margin
    )


def rot_z(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def approach_rot(yaw: float, pitch: float, roll: float = 0.0) -> np.ndarray:
    """Hand orientation whose fingers point along (yaw, pitch-down); the pinch axis (hand y) is
    horizontal, or turned by `roll` about the approach axis."""
    a = np.array([np.cos(yaw) * np.cos(pitch), np.sin(yaw) * np.cos(pitch), -np.sin(pitch)])
    z = -a  # fingers point along the hand's -z
    y = np.cross([0.0, 0.0, 1.0], a)
    y /= np.linalg.norm(y)
    x = np.cross(y, z)
    c, s = np.cos(roll), np.sin(roll)
    return np.column_stack([c * x + s * y, -s * x + c * y, z])


def object_extent(ctx: SkillContext, oid: str) -> tuple[float, float]:
    """(horizontal radius, half height) of an object's colliding geometry."""
    m = ctx.model.model
    bid = ctx.model.object_body[oid]
    r, h = 0.0, 0.0
    for g in range(m.ngeom):
        if m.geom_bodyid[g] != bid or not (m.geom_contype[g] or m.geom_conaffinity[g]):
            continue
        size, t = m.geom_size[g], m.geom_type[g]
        if t == mujoco.mjtGeom.mjGEOM_CYLINDER:
            r, h = max(r, size[0]), max(h, size[1])
        elif t == mujoco.mjtGeom.mjGEOM_BOX:
            r, h = max(r, float(np.hypot(size[0], size[1]))), max(h, size[2])
        elif t == mujoco.mjtGeom.mjGEOM_SPHERE:
            r, h = max(r, size[0]), max(h, size[0])
        else:
            r, h = max(r, m.geom_rbound[g]), max(h, m.geom_rbound[g])
    return r, h


def support_bodies(ctx: SkillContext, oid: str) -> set[int]:
    """Bodies (not the robot) the object touches or nearly touches now, e.g. the counter it
    stands on, or the counter 6 mm under the coffee machine's drip tray it stands on: lifting
    it starts that close to them, closer than the planning clearance.

    Distances are measured geom to geom (`mj_geomDistance`), not read from `mj_collision`'s
    contacts: the planning copy widens `geom_margin` only, and MuJoCo's mid-phase prunes the
    geoms of a multi-geom body (the table: top and four legs) by `body_margin`, still 0, so an
    apple resting 2 mm above the table top got no contact there and the table was not its
    support (its lift then "collided" with the table)."""
    m, d = ctx.model.model, ctx.model.data
    bid = ctx.model.object_body[oid]
    limit = ctx.model.clearance
    mine = [
        g for g in range(m.ngeom) if m.geom_bodyid[g] == bid and (m.geom_contype[g] or m.geom_conaffinity[g])
    ]
    fromto = np.zeros(6)
    out: set[int] = set()
    for g2 in range(m.ngeom):
        other = int(m.geom_bodyid[g2])
        if other == bid or other in out or other in ctx.model.robot_bodies:
            continue
        for g1 in mine:
            if not (
                m.geom_contype[g1] & m.geom_conaffinity[g2] or m.geom_contype[g2] & m.geom_conaffinity[g1]
            ):
                continue
            reach = m.geom_rbound[g1] + m.geom_rbound[g2] + limit
            # rbound 0 is a plane (the floor): unbounded
            if m.geom_rbound[g2] > 0 and np.linalg.norm(d.geom_xpos[g1] - d.geom_xpos[g2]) > reach:
                continue
            if mujoco.mj_geomDistance(m, d, g1, g2, limit, fromto) < limit:
                out.add(other)
                break
    return out
