"""Collision-free paths for the walking base on the floor plan, with OMPL in SE(2).

Read it as OMPL's demos: state space (SE2, bounded by the walkable floor), validity checker
(the inflated floor plan: clearance >= `FloorPlan.inflation`; a motion is one vectorised
segment check on the grid, see `_FloorMotionValidator`), problem definition, planner
(RRTConnect), simplify. Then the path is shortcut, smoothed with a B-spline and resampled
every `WAYPOINT_STEP_M` with headings along it, and every sample is checked again.

Standing at a counter means standing closer to it than the inflated robot may: the robot's
pelvis is ~0.25 m from the counter it works at. So the ends of a path are special: a start
inside the inflated margin leaves by a short straight segment (backing out first: the robot
faces what it worked at) to the nearest free pose, and a goal inside it is reached by a
straight docking segment from the nearest free pose, walking forward into it. Those
segments keep at least `DOCK_CLEARANCE_M` to every obstacle. A goal closer than that to an
obstacle, or off the floor, is `unreachable` with the obstacle's name; no path in the time
limit is `no_collision_free_path`.

Why RRTConnect: the question is feasibility in a mostly open 2-D room with a few narrow
passages; the bidirectional search answers it in milliseconds, and the shortcutting that
follows makes the path short, so an asymptotically optimal planner (RRT*, which spends its
whole time budget on every query) would buy little. The OMPL RNG is re-seeded before every
query, so one query gives the same path whatever was planned before it.

Why not a roadmap (PRM / LazyPRM*) reused across queries: `navigate` builds a fresh floor plan,
and so a fresh planner, for every walk (doors and furniture move between walks), so a roadmap
would be built for one query and thrown away. Where the time went instead: OMPL's discrete
motion validator called the Python state checker ~200 times per tree extension; checking each
motion as one numpy segment made a query ~15x faster (kitchen benchmark median ~300 -> ~20 ms)
with the same paths, so the best-of-4 runs that keep paths short still fit well inside the
time limit (and no longer get cut short by it on a busy CPU, which made quality load-dependent).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from ompl import base as ob
from ompl import geometric as og
from ompl import util as ou

from humanoid.contracts import FailureReason
from motion.floor_plan import FloorPlan
from motion.ompl_rng import seed_query

DEFAULT_TIME_LIMIT_S = 1.0  # a room-sized query solves in milliseconds; this is the hard stop
REPLAN_TIME_FACTOR = 2.0  # one more run with twice the time when the first one times out
WAYPOINT_STEP_M = 0.05
DOCK_CLEARANCE_M = 0.15  # pelvis to obstacle on a docking/escape segment: the body is ~0.1 m deep
TURN_ROOM_M = 0.15  # extra clearance where the robot turns in place at the ends (see `_exit`)
DOCK_MAX_M = 0.8  # the longest straight segment into a goal or out of a start
DOCK_STEP_M = 0.05
BSPLINE_STEPS = 3
# A resampled point between two checked ones may round to the neighbouring cell: the final
# check of the dense path allows half a cell less than the inflation (the margin covers it).
DENSE_TOLERANCE_M = 0.0125
BASE_PLANNER_SEED = 1
# RRTConnect returns the first path it finds, which may go round the wrong side of a table;
# shortcutting cannot fix that. So a query runs this many seeded RRTConnects (while the time
# limit lasts) and keeps the shortest shortcut path: a fixed, bounded list, deterministic.
PLANNER_RUNS = 4
# Escape / docking directions, tried in this order, relative to "straight back" from the pose's
# heading: straight back first, then ever more sideways, never forwards (that is into the counter).
_EXIT_ANGLES = tuple(np.deg2rad(a) for a in (0, 20, -20, 40, -40, 60, -60, 90, -90))

ou.setLogLevel(ou.LogLevel.LOG_WARN)  # as motion/arm_planner.py: OMPL's info lines are noise here


def wrap(a: float | np.ndarray) -> float | np.ndarray:
    return (np.asarray(a) + np.pi) % (2 * np.pi) - np.pi


@dataclass
class BasePlan:
    """A planned walk, or why there is none (`reason` set, `points` None)."""

    status: str  # straight_line | exact_solution | invalid_start | invalid_goal | timeout | ...
    points: np.ndarray | None  # (n, 3) x, y, yaw every ~WAYPOINT_STEP_M
    planning_time_s: float
    reason: FailureReason | None = None
    detail: str = ""
    length_m: float = 0.0
    straight_m: float = 0.0
    escape_m: float = 0.0  # straight segment out of the start's margin
    dock_m: float = 0.0  # straight segment into the goal's margin
    waypoints: np.ndarray | None = None  # (k, 2) the simplified transit polyline
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.reason is None


class BasePlanner:
    """Plans base paths on one `FloorPlan` (build a new planner when the floor plan changes)."""

    def __init__(
        self,
        floor: FloorPlan,
        time_limit_s: float = DEFAULT_TIME_LIMIT_S,
        seed: int = BASE_PLANNER_SEED,
    ) -> None:
        self.floor = floor
        self.time_limit_s = time_limit_s
        self.seed = seed

    def plan(self, start: np.ndarray, goal: np.ndarray, goal_name: str = "goal") -> BasePlan:
        """A path from `start` to `goal`, both (x, y, yaw) of the pelvis in the world."""
        t0 = time.perf_counter()
        start = np.asarray(start, dtype=np.float64)
        goal = np.asarray(goal, dtype=np.float64)
        floor = self.floor
        straight = float(np.linalg.norm(goal[:2] - start[:2]))

        def fail(status: str, reason: FailureReason, detail: str) -> BasePlan:
            return BasePlan(status, None, time.perf_counter() - t0, reason, detail, straight_m=straight)

        # the goal: on the floor, free, or one straight docking segment from free floor
        if not floor.in_bounds(goal[:2]):
            return fail(
                "invalid_goal",
                FailureReason.UNREACHABLE,
                f"{goal_name} at {_xy(goal)} is {self._off_floor(goal)}",
            )
        dock = self._exit(goal, facing_in=True)
        if dock is None:
            return fail("invalid_goal", FailureReason.UNREACHABLE, self._blocked(goal_name, goal))
        # the start: the robot is there, so it only has to find a way out
        if not floor.in_bounds(start[:2]):
            return fail(
                "invalid_start",
                FailureReason.UNREACHABLE,
                f"the robot at {_xy(start)} is {self._off_floor(start)}",
            )
        escape = self._exit(start, facing_in=False)
        if escape is None:
            return fail(
                "invalid_start",
                FailureReason.UNREACHABLE,
                "the robot is boxed in: " + self._blocked("its pose", start),
            )

        a, b = escape[-1], dock[0]
        if floor.segment_free(a, b):
            transit = np.stack([a, b])
            status = "straight_line"
        else:
            transit, status = self._best_of_runs(a, b)
            if transit is None and status == "timeout":
                transit, status = self._ompl(a, b, self.time_limit_s * REPLAN_TIME_FACTOR, self.seed)
            if transit is None:
                return fail(
                    status,
                    FailureReason.NO_COLLISION_FREE_PATH,
                    f"OMPL RRTConnect found no path from {_xy(a)} to {_xy(b)} ({status.replace('_', ' ')}) "
                    f"for the robot inflated by {floor.inflation:.2f} m",
                )
        points, on_end = self._assemble(start, goal, escape, transit, dock)
        # every sample again: transit samples at full inflation, the end segments at docking clearance
        bad = self._first_invalid(points, on_end, floor.clearance_at(start[:2]))
        if bad is not None:
            name, dist = floor.nearest_obstacle(points[bad, :2])
            return fail(
                "invalid_densified_state",
                FailureReason.NO_COLLISION_FREE_PATH,
                f"the smoothed path passes {dist:.2f} m from '{name}' at {_xy(points[bad])}",
            )
        return BasePlan(
            status,
            points,
            time.perf_counter() - t0,
            length_m=_length(points[:, :2]),
            straight_m=straight,
            escape_m=_length(escape),
            dock_m=_length(dock),
            waypoints=transit,
        )

    # --- the ends of the path -------------------------------------------------------------
    def _exit(self, pose: np.ndarray, facing_in: bool) -> np.ndarray | None:
        """A straight segment from `pose` to the nearest free floor with room to turn, as points
        from the pose (or towards it when `facing_in`: the docking segment, returned in walking
        order).

        The robot turns in place where the segment meets the transit, and a walking policy's
        turn in place wanders: walk_v2 drifted up to ~0.15 m and swept its open fingers into the
        trash can and the side counter turning at a pose that was merely free. So the segment
        ends where the clearance is `TURN_ROOM_M` more than the inflation, if such a pose lies
        within `DOCK_MAX_M`, else where it is free (a pose that qualifies is its own exit)."""
        floor = self.floor
        for clearance in (floor.inflation + TURN_ROOM_M, floor.inflation):
            if floor.free(pose[:2], clearance):
                return pose[None, :2].copy()
            seg = self._exit_segment(pose, facing_in, clearance)
            if seg is not None:
                return seg
        return None

    def _exit_segment(self, pose: np.ndarray, facing_in: bool, clearance: float) -> np.ndarray | None:
        """The candidate directions go back from the pose's heading; the first (shortest, then
        most straight-back) whose end has `clearance` and whose every point keeps
        `DOCK_CLEARANCE_M` wins. For the robot's own start, whose clearance may already be under
        that, a segment may also do if it never gets closer to an obstacle than the robot
        already is."""
        floor = self.floor
        p = pose[:2]
        here = floor.clearance_at(p)
        need = DOCK_CLEARANCE_M if facing_in else min(DOCK_CLEARANCE_M, here)
        if here < need:
            return None
        back = pose[2] + np.pi
        for dist in np.arange(DOCK_STEP_M, DOCK_MAX_M + 1e-9, DOCK_STEP_M):
            for da in _EXIT_ANGLES:
                u = np.array([np.cos(back + da), np.sin(back + da)])
                end = p + dist * u
                if not floor.free(end, clearance):
                    continue
                n = max(1, int(np.ceil(dist / (floor.cell / 2))))
                seg = p + np.linspace(0.0, dist, n + 1)[:, None] * u
                if all(floor.clearance_at(q) >= need for q in seg) and all(floor.in_bounds(q) for q in seg):
                    return seg[::-1].copy() if facing_in else seg
        return None

    def _blocked(self, name: str, pose: np.ndarray) -> str:
        obst, dist = self.floor.nearest_obstacle(pose[:2])
        if dist < DOCK_CLEARANCE_M:
            return (
                f"{name} at {_xy(pose)} is inside the obstacle '{obst}' inflated by {DOCK_CLEARANCE_M:.2f} m "
                f"(the robot's body; it is {dist:.2f} m from it)"
            )
        return (
            f"{name} at {_xy(pose)} is {dist:.2f} m from '{obst}', inside its {self.floor.inflation:.2f} m "
            f"walking margin, and no straight line of up to {DOCK_MAX_M:.1f} m leads from it to free floor"
        )

    def _off_floor(self, pose: np.ndarray) -> str:
        x0, x1, y0, y1 = self.floor.bounds
        return f"outside the floor plan (x {x0:.2f}..{x1:.2f}, y {y0:.2f}..{y1:.2f})"

    # --- OMPL: the five steps ---------------------------------------------------------------
    def _best_of_runs(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray | None, str]:
        t0 = time.perf_counter()
        best, best_len, status = None, np.inf, "timeout"
        for k in range(PLANNER_RUNS):
            left = self.time_limit_s - (time.perf_counter() - t0)
            if left <= 0.0:
                break
            pts, st = self._ompl(a, b, left, self.seed + k)
            if pts is None:
                status = st if best is None else status
                continue
            if _length(pts) < best_len:
                best, best_len, status = pts, _length(pts), st
        return best, status

    def _ompl(
        self, a: np.ndarray, b: np.ndarray, time_limit_s: float, seed: int
    ) -> tuple[np.ndarray | None, str]:
        floor = self.floor
        # 1. state space: SE2 bounded by the walkable floor
        space = ob.SE2StateSpace()
        x0, x1, y0, y1 = floor.bounds
        bounds = ob.RealVectorBounds(2)
        bounds.setLow(0, x0)
        bounds.setHigh(0, x1)
        bounds.setLow(1, y0)
        bounds.setHigh(1, y1)
        space.setBounds(bounds)
        # 2. validity: the robot is a circle, so only x, y matter. A motion is checked as one
        # straight x-y segment every half cell in a single numpy call (`_FloorMotionValidator`),
        # not by OMPL's discrete validator calling back into Python per state: those callbacks
        # (~200 per extension, thousands per query) were ~90 % of the planning time. The
        # state checker remains for the few single states OMPL checks (start, goal).
        si = ob.SpaceInformation(space)
        si.setStateValidityChecker(lambda s: floor.free((s.getX(), s.getY())))
        si.setMotionValidator(_FloorMotionValidator(si, floor))
        si.setup()
        # 3. problem definition
        start, goal = si.allocState(), si.allocState()
        for st, p, q in ((start, a, b), (goal, b, a)):
            st.setX(float(p[0]))
            st.setY(float(p[1]))
            st.setYaw(float(wrap(np.arctan2(q[1] - p[1], q[0] - p[0]))))  # SE2 wants [-pi, pi)
        pdef = ob.ProblemDefinition(si)
        pdef.setStartAndGoalStates(start, goal)
        # 4. planner, seeded for this query (`motion/ompl_rng.py`)
        seed_query(seed)
        planner = og.RRTConnect(si)
        planner.setProblemDefinition(pdef)
        planner.setup()
        solved = planner.solve(time_limit_s)
        if solved.getStatus() != ob.PlannerStatus.PlannerStatusType.EXACT_SOLUTION:
            return None, solved.asString().lower().replace(" ", "_")
        path = pdef.getSolutionPath()
        pts = np.array(
            [[path.getState(i).getX(), path.getState(i).getY()] for i in range(path.getStateCount())]
        )
        if np.linalg.norm(pts[0] - a) > 1e-6 or np.linalg.norm(pts[-1] - b) > 1e-6:
            return None, "wrong_endpoints"
        # 5. simplify: shortcut (deterministic, greedy), then a B-spline that OMPL checks
        pts = self._shortcut(pts)
        path = og.PathGeometric(si)
        for p in pts:
            s = si.allocState()
            s.setX(float(p[0]))
            s.setY(float(p[1]))
            s.setYaw(0.0)
            path.append(s)
        og.PathSimplifier(si).smoothBSpline(path, BSPLINE_STEPS)
        pts = np.array(
            [[path.getState(i).getX(), path.getState(i).getY()] for i in range(path.getStateCount())]
        )
        return pts, "exact_solution"

    def _shortcut(self, pts: np.ndarray) -> np.ndarray:
        """Greedy line-of-sight shortcut: from each kept vertex, jump to the farthest vertex it
        sees. Deterministic, unlike OMPL's random shortcutting."""
        out = [pts[0]]
        i = 0
        while i < len(pts) - 1:
            j = len(pts) - 1
            while j > i + 1 and not self.floor.segment_free(pts[i], pts[j]):
                j -= 1
            out.append(pts[j])
            i = j
        return np.array(out)

    # --- resampling and checks ----------------------------------------------------------------
    def _assemble(
        self, start: np.ndarray, goal: np.ndarray, escape: np.ndarray, transit: np.ndarray, dock: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(x, y, yaw) every ~WAYPOINT_STEP_M, and which samples lie on the straight end segments.

        The escape keeps the start's heading (the robot backs out), the transit heads along the
        path, the dock keeps the goal's heading (it walks in facing its work). The tracker
        turns in place where the heading jumps."""
        parts: list[np.ndarray] = []
        ends: list[np.ndarray] = []
        if len(escape) > 1:
            e = _resample(escape)[:-1]  # its last point is the transit's first
            parts.append(np.column_stack([e, np.full(len(e), start[2])]))
            ends.append(np.ones(len(e), dtype=bool))
        t = _resample(transit)
        if len(t) > 1:
            d = np.gradient(t, axis=0)
            parts.append(np.column_stack([t, np.arctan2(d[:, 1], d[:, 0])]))
        else:
            parts.append(np.array([[t[0, 0], t[0, 1], goal[2]]]))
        ends.append(np.zeros(len(parts[-1]), dtype=bool))
        if len(dock) > 1:
            k = _resample(dock)[1:]  # its first point is the transit's last
            parts.append(np.column_stack([k, np.full(len(k), goal[2])]))
            ends.append(np.ones(len(k), dtype=bool))
        pts, on_end = np.concatenate(parts), np.concatenate(ends)
        pts[-1] = goal  # the final sample is the goal itself, heading included
        return pts, on_end

    def _first_invalid(self, points: np.ndarray, on_end: np.ndarray, start_clearance: float) -> int | None:
        """Transit samples must be free at full inflation; end-segment samples keep the docking
        clearance (or, backing out, the robot's own clearance at the start)."""
        need_end = min(DOCK_CLEARANCE_M, start_clearance) - 1e-9
        need = np.where(on_end, need_end, self.floor.inflation - DENSE_TOLERANCE_M)
        bad = np.flatnonzero(~self.floor.free_points(points[:, :2], need))
        return int(bad[0]) if len(bad) else None


class _FloorMotionValidator(ob.MotionValidator):
    """OMPL motion check on the floor plan: the straight x-y segment between two SE2 states,
    every half cell (`FloorPlan.segment_free`, the check the shortcut and the benchmark use too).
    The heading does not enter: the inflated robot is a circle. Only the two-state form is
    defined (RRTConnect and the B-spline smoother use it); a planner that asks for the
    last valid state fails loudly instead of getting a wrong answer."""

    def __init__(self, si: ob.SpaceInformation, floor: FloorPlan) -> None:
        super().__init__(si)
        self.floor = floor

    def checkMotion(self, s1: ob.State, s2: ob.State) -> bool:  # noqa: N802 - OMPL's name
        return self.floor.segment_free((s1.getX(), s1.getY()), (s2.getX(), s2.getY()))


def _resample(pts: np.ndarray, step: float = WAYPOINT_STEP_M) -> np.ndarray:
    """A polyline resampled at ~`step` spacing along its length, keeping both ends."""
    pts = np.asarray(pts, dtype=np.float64)
    if len(pts) < 2:
        return pts.copy()
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] < 1e-9:
        return pts[:1].copy()
    n = max(1, int(np.ceil(s[-1] / step)))
    q = np.linspace(0.0, s[-1], n + 1)
    return np.column_stack([np.interp(q, s, pts[:, 0]), np.interp(q, s, pts[:, 1])])


def _length(pts: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(pts, axis=0), axis=1).sum()) if len(pts) > 1 else 0.0


def _xy(p: np.ndarray) -> str:
    return f"({p[0]:.2f}, {p[1]:.2f})"
