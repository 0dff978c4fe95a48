"""Collision-free paths for one arm in its 7-D joint space, with OMPL.

Read it as OMPL's demos: state space (joint-limit bounds), validity checker (MuJoCo
collision check of the arm and what it holds, in `CollisionModel`), problem definition
(start, goal), planner (RRTConnect), simplify. The result is checked (exact solution, starts
and ends where asked), time-parameterised and densified to 50 Hz, and every densified state
is checked again. Failures are typed: a start or goal in collision, or no path in time, is
`no_collision_free_path`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
from ompl import base as ob
from ompl import geometric as og
from ompl import util as ou

from humanoid.contracts import FailureReason
from motion.collision_model import CollisionModel
from motion.ompl_rng import seed_query
from motion.trajectory import DEFAULT_LIMITS, TimingLimits, Trajectory, time_parameterize

DEFAULT_TIME_LIMIT_S = 2.0
# Motion-check resolution as a fraction of the space's extent (~8 rad for a 7-joint arm):
# 0.0015 is ~0.012 rad per check, under a centimetre at the hand.
SEGMENT_FRACTION = 0.0015
ENDPOINT_TOL = 1e-6
DENSE_CLEARANCE_FRACTION = 0.5
REPLANS = 1  # a fixed, bounded fallback: one more planner run
# Worth one more run: checks finer than OMPL's motion validator rejected what it accepted, or a
# hard query (e.g. carrying a mug past another one, ~0.7-1.7 s) ran out of its wall-time limit
# on a loaded CPU.
REPLAN_TIME_FACTOR = 2.0  # the one re-plan may take this many times the time limit
REPLAN_STATUSES = ("invalid_densified_state", "invalid_simplified_path", "approximate_solution", "timeout")
OMPL_SEED = 1
ESCAPE_RADII_RAD = (0.05, 0.1, 0.2)  # joint offsets tried to move a start out of the clearance margin
ESCAPE_TRIES = 40  # per radius

ou.setLogLevel(ou.LogLevel.LOG_WARN)


@dataclass
class ArmPlan:
    """A planned arm motion, or why there is none (`reason` set, `trajectory` None)."""

    side: str
    status: str  # straight_line | exact_solution | invalid_start | invalid_goal | timeout | ...
    waypoints: np.ndarray | None  # (k, 7) simplified path
    trajectory: Trajectory | None  # timed and densified at 50 Hz
    planning_time_s: float
    reason: FailureReason | None = None
    detail: str = ""
    checks: int = 0  # validity checks made
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.reason is None


class ArmPlanner:
    """Plans one arm's joint-space motions against a synced `CollisionModel`."""

    def __init__(
        self,
        model: CollisionModel,
        time_limit_s: float = DEFAULT_TIME_LIMIT_S,
        segment_fraction: float = SEGMENT_FRACTION,
        limits: TimingLimits = DEFAULT_LIMITS,
        simplify: str = "fast",
    ) -> None:
        self.simplify = simplify  # "fast": bounded shortcutting; "max": OMPL's simplifyMax
        self.model = model
        self.time_limit_s = time_limit_s
        self.segment_fraction = segment_fraction
        self.limits = limits

    # --- the five steps ---------------------------------------------------------------
    def plan(
        self,
        side: str,
        q_start: np.ndarray,
        q_goal: np.ndarray,
        allowed: frozenset[tuple[int, int]] = frozenset(),
        limits: TimingLimits | None = None,
        time_limit_s: float | None = None,
    ) -> ArmPlan:
        q_now = self.model.arm_q(side)
        try:
            q_start = np.asarray(q_start, dtype=np.float64)
            escape = self.escape(side, q_start, allowed)
            q_from = q_start if escape is None else escape
            plan = self._plan(side, q_from, q_goal, allowed, limits, time_limit_s, OMPL_SEED)
            for attempt in range(REPLANS):
                if plan.status not in REPLAN_STATUSES:
                    break
                limit = (self.time_limit_s if time_limit_s is None else time_limit_s) * REPLAN_TIME_FACTOR
                plan = self._plan(side, q_from, q_goal, allowed, limits, limit, OMPL_SEED + 1 + attempt)
            if escape is not None and plan.ok:
                waypoints = np.vstack([q_start, plan.waypoints])
                plan = replace(
                    plan,
                    waypoints=waypoints,
                    trajectory=time_parameterize(waypoints, limits or self.limits),
                    extra={**plan.extra, "escaped_from_start": True},
                )
            return plan
        finally:
            self.model.set_arm(side, q_now)  # checks move the arm in the model; put it back

    def _plan(
        self,
        side: str,
        q_start: np.ndarray,
        q_goal: np.ndarray,
        allowed: frozenset[tuple[int, int]],
        limits: TimingLimits | None,
        time_limit_s: float | None,
        seed: int,
    ) -> ArmPlan:
        t0 = time.perf_counter()
        extra: dict = {}
        q_start = np.asarray(q_start, dtype=np.float64)
        q_goal = np.asarray(q_goal, dtype=np.float64)
        model = self.model
        counter = [0]

        def valid(q: np.ndarray) -> bool:
            counter[0] += 1
            return model.arm_state_valid(side, q, allowed)

        def fail(status: str, detail: str) -> ArmPlan:
            return ArmPlan(
                side,
                status,
                None,
                None,
                time.perf_counter() - t0,
                FailureReason.NO_COLLISION_FREE_PATH,
                detail,
                counter[0],
            )

        for name, q in (("start", q_start), ("goal", q_goal)):
            if not valid(q):
                hits = model.collisions(side, allowed) if self._in_bounds(side, q) else []
                why = ", ".join(map(str, hits[:4])) or self._bounds_detail(side, q)
                return fail(f"invalid_{name}", f"{name} state of the {side} arm is not valid: {why}")

        if self.segment_valid(side, q_start, q_goal, allowed, counter):
            waypoints = np.stack([q_start, q_goal])
            status = "straight_line"
        else:
            # 1. state space with the arm's joint-limit bounds
            lo, hi = model.bounds[side]
            space = ob.RealVectorStateSpace(len(lo))
            bounds = ob.RealVectorBounds(len(lo))
            for i, (a, b) in enumerate(zip(lo, hi, strict=True)):
                bounds.setLow(i, float(a))
                bounds.setHigh(i, float(b))
            space.setBounds(bounds)
            space.setLongestValidSegmentFraction(self.segment_fraction)
            # 2. validity checker: MuJoCo collision check in the motion layer's world copy
            si = ob.SpaceInformation(space)
            dim = len(lo)
            si.setStateValidityChecker(lambda s: valid(np.array(s[0:dim])))
            si.setup()
            # 3. problem definition
            start, goal = si.allocState(), si.allocState()
            start[0:dim] = q_start.tolist()
            goal[0:dim] = q_goal.tolist()
            pdef = ob.ProblemDefinition(si)
            pdef.setStartAndGoalStates(start, goal)
            # 4. planner, seeded for this query (`motion/ompl_rng.py`)
            seed_query(seed)
            planner = og.RRTConnect(si)
            planner.setProblemDefinition(pdef)
            planner.setup()
            t_solve = time.perf_counter()
            solved = planner.solve(self.time_limit_s if time_limit_s is None else time_limit_s)
            extra["solve_s"] = time.perf_counter() - t_solve
            extra["solve_checks"] = counter[0]
            st = solved.getStatus()
            if st != ob.PlannerStatus.PlannerStatusType.EXACT_SOLUTION:
                return fail(
                    solved.asString().lower().replace(" ", "_"),
                    f"OMPL RRTConnect: {solved.asString()} for the {side} arm",
                )
            path = pdef.getSolutionPath()
            # 5. simplify
            t_simplify = time.perf_counter()
            n_raw = path.getStateCount()
            self._simplify(og.PathSimplifier(si), path)
            extra["simplify_s"] = time.perf_counter() - t_simplify
            extra["raw_waypoints"] = n_raw
            waypoints = np.array([path.getState(i)[0:dim] for i in range(path.getStateCount())])
            status = "exact_solution"
            if (
                np.abs(waypoints[0] - q_start).max() > ENDPOINT_TOL
                or np.abs(waypoints[-1] - q_goal).max() > ENDPOINT_TOL
            ):
                return fail(
                    "wrong_endpoints", "OMPL returned a path that does not start/end at the requested states"
                )
            for a, b in zip(waypoints[:-1], waypoints[1:], strict=True):
                if not self.segment_valid(side, a, b, allowed, counter):
                    return fail("invalid_simplified_path", "the simplified path has a segment in collision")

        traj = time_parameterize(waypoints, limits or self.limits)
        # samples between two motion checks may graze the planning clearance; half of it must hold
        bad = self.first_invalid(
            side, traj.q, allowed, counter, clearance=self.model.clearance * DENSE_CLEARANCE_FRACTION
        )
        if bad is not None:
            return fail(
                "invalid_densified_state",
                f"densified state {bad} at t={traj.times[bad]:.2f}s is in collision",
            )
        return ArmPlan(side, status, waypoints, traj, time.perf_counter() - t0, None, "", counter[0], extra)

    def _simplify(self, simplifier: og.PathSimplifier, path: og.PathGeometric) -> None:
        """Shortcut and drop vertices with fixed step counts (no time budget: deterministic)."""
        if self.simplify == "max":
            simplifier.simplifyMax(path)
            return
        simplifier.reduceVertices(path)
        simplifier.collapseCloseVertices(path)
        simplifier.partialShortcutPath(path, 20, 5)
        simplifier.reduceVertices(path)

    def escape(
        self, side: str, q_start: np.ndarray, allowed: frozenset[tuple[int, int]]
    ) -> np.ndarray | None:
        """A valid state near a start that is inside the planning clearance but touches nothing.

        After a set-down or a grasp the hand ends closer to the objects than the planning
        clearance allows (it was allowed to touch them), and OMPL refuses such a start. A start
        that touches nothing is moved out of the margin first: the nearest of a fixed, seeded set
        of small joint offsets whose state is valid and whose straight segment from the start
        touches nothing. (OMPL's `fixInvalidInputStates` samples the same way, but it cannot check
        that segment at zero clearance.) None when the start is valid, or in contact.
        """
        model = self.model
        if model.arm_state_valid(side, q_start, allowed) or not model.arm_state_valid(
            side, q_start, allowed, 0.0
        ):
            return None
        lo, hi = model.bounds[side]
        rng = np.random.default_rng(OMPL_SEED)
        for radius in ESCAPE_RADII_RAD:
            for _ in range(ESCAPE_TRIES):
                q = np.clip(q_start + rng.uniform(-radius, radius, len(q_start)), lo, hi)
                if not model.arm_state_valid(side, q, allowed):
                    continue
                n = max(1, int(np.ceil(np.linalg.norm(q - q_start) / self.resolution(side))))
                if all(
                    model.arm_state_valid(side, q_start + t * (q - q_start), allowed, 0.0)
                    for t in np.linspace(0, 1, n + 1)
                ):
                    return q
        return None

    # --- checks -----------------------------------------------------------------------
    def resolution(self, side: str) -> float:
        lo, hi = self.model.bounds[side]
        return float(np.linalg.norm(hi - lo)) * self.segment_fraction

    def segment_valid(
        self,
        side: str,
        a: np.ndarray,
        b: np.ndarray,
        allowed: frozenset[tuple[int, int]] = frozenset(),
        counter: list[int] | None = None,
    ) -> bool:
        """The straight joint-space segment a->b checked at the planner's resolution."""
        n = max(1, int(np.ceil(np.linalg.norm(b - a) / self.resolution(side))))
        for s in np.linspace(0.0, 1.0, n + 1):
            if counter is not None:
                counter[0] += 1
            if not self.model.arm_state_valid(side, a + s * (b - a), allowed):
                return False
        return True

    def first_invalid(
        self,
        side: str,
        qs: np.ndarray,
        allowed: frozenset[tuple[int, int]] = frozenset(),
        counter: list[int] | None = None,
        clearance: float | None = None,
    ) -> int | None:
        for i, q in enumerate(qs):
            if counter is not None:
                counter[0] += 1
            if not self.model.arm_state_valid(side, q, allowed, clearance):
                return i
        return None

    def _in_bounds(self, side: str, q: np.ndarray) -> bool:
        lo, hi = self.model.bounds[side]
        return bool(np.all(q >= lo - 1e-9) and np.all(q <= hi + 1e-9))

    def _bounds_detail(self, side: str, q: np.ndarray) -> str:
        lo, hi = self.model.bounds[side]
        names = self.model.spec.joint_groups[self.model.spec.end_effectors[side].arm]
        out = [
            f"{n}={v:+.3f} outside [{a:+.3f}, {b:+.3f}]"
            for n, v, a, b in zip(names, q, lo, hi, strict=True)
            if not a - 1e-9 <= v <= b + 1e-9
        ]
        return "; ".join(out) or "unknown"
