"""Where the robot's base may stand: a 2-D occupancy floor plan of the scene, for `navigate`.

Every collidable world geom (furniture, appliances, articulated doors and drawers) whose
vertical extent overlaps the robot's body band is projected onto the floor as its convex
footprint (boxes, cylinders, spheres, capsules and ellipsoids with their orientation; any other
shape by its bounding box) and rasterised on a grid of `CELL_M` cells. A distance transform
gives each cell its clearance to the nearest occupied cell; a pose is free for walking when
that clearance is at least `INFLATION_M` (the robot as a circle plus a safety margin).

The robot's own geoms and free-floating small items (mugs, cans, what the hands carry) are
left out: the robot steps around furniture, not around the mug in its hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mujoco
import numpy as np

CELL_M = 0.025
BODY_BAND_M = (0.02, 1.5)  # heights at which the 1.45 m robot's body and arms would touch something
# The robot seen from above, arms hanging: hands at y = +-0.30 m with the fingers a few cm
# further out, and a walking policy's stance up to ~0.45 m wide (a foot ~0.29 m out). A circle
# of 0.35 m covers them in any heading (0.30 let the right fingers and foot rub the kitchen
# island along a whole walk).
ROBOT_RADIUS_M = 0.35
# path tracking (cross-track up to ~0.1 m measured with walk_v2) and the grid's cell-centre
# distances (error up to ~1 cell)
SAFETY_MARGIN_M = 0.10
INFLATION_M = ROBOT_RADIUS_M + SAFETY_MARGIN_M  # 0.45: the one number the planner keeps to
# The kitchen has no walls: the walkable floor is the furniture's extent plus this much, so
# that a plan never wanders metres away from everything (and stays on the floor plane).
ROOM_MARGIN_M = 1.0
SMALL_ITEM_M = 0.25  # a free-floating body narrower than this (radius, m) is an item, not an obstacle
_CIRCLE_N = 16  # polygon sides for round footprints (circumscribed, so never smaller than the circle)


@dataclass(frozen=True)
class Obstacle:
    """One geom's footprint on the floor: a convex polygon (counter-clockwise) and its heights."""

    name: str
    polygon: np.ndarray  # (k, 2) world x, y
    z: tuple[float, float]

    def distance(self, xy: np.ndarray) -> float:
        """Exact distance from a point to the footprint (0 inside)."""
        return float(_polygon_distance(self.polygon, np.asarray(xy, dtype=np.float64)))


@dataclass
class FloorPlan:
    """The occupancy grid, its clearance map and the obstacles it came from.

    Cell (i, j) is row i (y), column j (x); its centre is `origin + (j, i) * cell`.
    """

    origin: np.ndarray  # (2,) world x, y of cell (0, 0)'s centre
    cell: float
    occupied: np.ndarray  # (ny, nx) bool
    label: np.ndarray  # (ny, nx) int: index into `obstacles`, -1 where free
    clearance: np.ndarray  # (ny, nx) m from the cell centre to the nearest occupied cell centre
    obstacles: tuple[Obstacle, ...]
    inflation: float = INFLATION_M

    @property
    def shape(self) -> tuple[int, int]:
        return self.occupied.shape  # type: ignore[return-value]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(x_min, x_max, y_min, y_max) of the walkable floor (cell edges)."""
        ny, nx = self.shape
        h = self.cell / 2
        return (
            float(self.origin[0] - h),
            float(self.origin[0] + (nx - 1) * self.cell + h),
            float(self.origin[1] - h),
            float(self.origin[1] + (ny - 1) * self.cell + h),
        )

    def in_bounds(self, xy: np.ndarray) -> bool:
        x0, x1, y0, y1 = self.bounds
        return bool(x0 <= xy[0] <= x1 and y0 <= xy[1] <= y1)

    def index(self, xy: np.ndarray) -> tuple[int, int]:
        """The (row, column) of the cell holding a point (clamped to the grid)."""
        ny, nx = self.shape
        j = int(np.clip(np.rint((xy[0] - self.origin[0]) / self.cell), 0, nx - 1))
        i = int(np.clip(np.rint((xy[1] - self.origin[1]) / self.cell), 0, ny - 1))
        return i, j

    def cell_center(self, i: int, j: int) -> np.ndarray:
        return self.origin + np.array([j, i], dtype=np.float64) * self.cell

    def clearance_at(self, xy: np.ndarray) -> float:
        """Grid clearance at a point; 0 off the floor."""
        if not self.in_bounds(xy):
            return 0.0
        return float(self.clearance[self.index(xy)])

    def free(self, xy: np.ndarray, radius: float | None = None) -> bool:
        """True where the robot (inflated by `radius`, default `inflation`) may stand."""
        r = self.inflation if radius is None else radius
        return self.in_bounds(xy) and self.clearance_at(xy) >= r

    def free_points(self, xy: np.ndarray, radius: float | np.ndarray | None = None) -> np.ndarray:
        """`free` for many points (n, 2) at once (`radius` a number or one per point): the same
        cells, the same answers, one numpy pass instead of a Python call per point (the
        planner checks thousands per query)."""
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        r = self.inflation if radius is None else radius
        x0, x1, y0, y1 = self.bounds
        ny, nx = self.clearance.shape
        x, y = xy[:, 0], xy[:, 1]
        inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
        j = np.minimum(np.maximum(np.rint((x - self.origin[0]) / self.cell), 0), nx - 1).astype(np.intp)
        i = np.minimum(np.maximum(np.rint((y - self.origin[1]) / self.cell), 0), ny - 1).astype(np.intp)
        return inside & (self.clearance[i, j] >= r)

    def segment_free(self, a: np.ndarray, b: np.ndarray, radius: float | None = None) -> bool:
        """Every point of the segment a-b free, checked every half cell."""
        a = np.asarray(a, dtype=np.float64)[:2]
        d = np.asarray(b, dtype=np.float64)[:2] - a
        n = max(1, int(np.ceil(np.linalg.norm(d) / (self.cell / 2))))
        return bool(self.free_points(a + np.linspace(0.0, 1.0, n + 1)[:, None] * d, radius).all())

    def nearest_obstacle(self, xy: np.ndarray) -> tuple[str, float]:
        """(name, exact distance in m) of the obstacle footprint nearest to a point."""
        if not self.obstacles:
            return "", float("inf")
        d = [o.distance(xy) for o in self.obstacles]
        k = int(np.argmin(d))
        return self.obstacles[k].name, float(d[k])

    def to_dict(self) -> dict[str, Any]:
        """For traces and the viewer's map: the footprints, the inflation and the grid (run-length
        encoded row by row from the bottom-left, alternating free and occupied runs, free first)."""
        flat = self.occupied.ravel().astype(np.int8)
        change = np.flatnonzero(np.diff(flat)) + 1
        edges = np.concatenate([[0], change, [flat.size]])
        runs = np.diff(edges).tolist()
        if flat.size and flat[0]:
            runs = [0, *runs]
        return {
            "frame": "world",
            "cell_m": self.cell,
            "origin": [round(float(v), 4) for v in self.origin],
            "shape": list(self.shape),
            "bounds": [round(v, 4) for v in self.bounds],
            "inflation_m": self.inflation,
            "robot_radius_m": ROBOT_RADIUS_M,
            "obstacles": [
                {
                    "name": o.name,
                    "polygon": np.round(o.polygon, 4).tolist(),
                    "z": [round(o.z[0], 3), round(o.z[1], 3)],
                }
                for o in self.obstacles
            ],
            "occupied_rle": runs,
        }


# --- building -------------------------------------------------------------------------------
def build_floor_plan(
    model: mujoco.MjModel,
    data: mujoco.MjData,
    exclude_bodies: set[int] | frozenset[int] = frozenset(),
    extra_points: list[np.ndarray] | tuple = (),
    cell: float = CELL_M,
    band: tuple[float, float] = BODY_BAND_M,
    inflation: float = INFLATION_M,
    room_margin: float = ROOM_MARGIN_M,
) -> FloorPlan:
    """The floor plan of `model` posed in `data` (run `mj_kinematics` first).

    `exclude_bodies` are left out with their subtrees (pass the robot's root); free-floating
    bodies narrower than `SMALL_ITEM_M` are left out too. `extra_points` (e.g. the robot's
    position) are kept inside the walkable floor."""
    excluded = _subtrees(model, set(exclude_bodies)) | _small_free_bodies(model, data)
    obstacles: list[Obstacle] = []
    floor_half: np.ndarray | None = None
    floor_pos = np.zeros(2)
    for g in range(model.ngeom):
        if model.geom_bodyid[g] in excluded or not (model.geom_contype[g] or model.geom_conaffinity[g]):
            continue
        if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_PLANE:
            if model.geom_size[g][0] > 0 and model.geom_size[g][1] > 0:  # a finite floor bounds the room
                floor_half = model.geom_size[g][:2].copy()
                floor_pos = data.geom_xpos[g][:2].copy()
            continue
        pts = _geom_points(model, data, g)
        z0, z1 = float(pts[:, 2].min()), float(pts[:, 2].max())
        if z1 < band[0] or z0 > band[1]:
            continue
        name = model.geom(g).name or f"{model.body(model.geom_bodyid[g]).name}#{g}"
        obstacles.append(Obstacle(name, _convex_hull(pts[:, :2]), (z0, z1)))

    # walkable floor: the obstacles' extent (and the extra points) plus the room margin
    xy = [o.polygon for o in obstacles] + [np.asarray(p, dtype=np.float64)[None, :2] for p in extra_points]
    if xy:
        allpts = np.concatenate(xy)
        lo, hi = allpts.min(axis=0) - room_margin, allpts.max(axis=0) + room_margin
    else:
        lo, hi = np.full(2, -room_margin), np.full(2, room_margin)
    if floor_half is not None:
        lo, hi = np.maximum(lo, floor_pos - floor_half), np.minimum(hi, floor_pos + floor_half)
    nx = max(1, int(np.ceil((hi[0] - lo[0]) / cell)))
    ny = max(1, int(np.ceil((hi[1] - lo[1]) / cell)))
    origin = lo + cell / 2

    occupied = np.zeros((ny, nx), dtype=bool)
    label = np.full((ny, nx), -1, dtype=np.int32)
    for k, o in enumerate(obstacles):
        _rasterize(o.polygon, origin, cell, occupied, label, k)
    clearance = distance_transform(occupied) * cell
    return FloorPlan(origin, cell, occupied, label, clearance, tuple(obstacles), inflation)


def distance_transform(occupied: np.ndarray) -> np.ndarray:
    """Exact Euclidean distance (in cells) from every cell centre to the nearest occupied one.

    Separable and exact (the idea of Meijster et al. / Felzenszwalb & Huttenlocher): first the
    distance along each column, then along each row the minimum of g(k)^2 + (j - k)^2 over k,
    done as one (nx, nx) broadcast per row. Written here in numpy because the project does not
    depend on scipy (`scipy.ndimage.distance_transform_edt` gives the same numbers, and the
    tests check that where scipy happens to be installed). A grid with nothing occupied is
    everywhere farther than the grid is wide."""
    ny, nx = occupied.shape
    far = float(ny + nx + 1)
    g = np.empty((ny, nx))
    run = np.full(nx, far)
    for i in range(ny):
        run = np.where(occupied[i], 0.0, run + 1.0)
        g[i] = run
    run = np.full(nx, far)
    for i in range(ny - 1, -1, -1):
        run = np.where(occupied[i], 0.0, run + 1.0)
        g[i] = np.minimum(g[i], run)
    cols = np.arange(nx, dtype=np.float64)
    dj2 = (cols[:, None] - cols[None, :]) ** 2  # (j, k)
    g2 = g**2
    out = np.empty((ny, nx))
    for i in range(ny):
        out[i] = np.min(g2[i][None, :] + dj2, axis=1)
    return np.sqrt(out)


# --- geometry helpers -----------------------------------------------------------------------
def _subtrees(model: mujoco.MjModel, roots: set[int]) -> set[int]:
    out = set(roots)
    for b in range(1, model.nbody):
        if model.body_parentid[b] in out:
            out.add(b)
    return out


def _small_free_bodies(model: mujoco.MjModel, data: mujoco.MjData) -> set[int]:
    """Bodies on a free joint (and their subtrees) whose horizontal footprint is item-sized."""
    out: set[int] = set()
    for b in range(1, model.nbody):
        j = model.body_jntadr[b]
        if j < 0 or model.jnt_type[j] != mujoco.mjtJoint.mjJNT_FREE:
            continue
        tree = _subtrees(model, {b})
        geoms = [g for g in range(model.ngeom) if model.geom_bodyid[g] in tree]
        if not geoms:
            out |= tree
            continue
        pts = np.concatenate([_geom_points(model, data, g)[:, :2] for g in geoms])
        if float(np.linalg.norm(pts - data.xpos[b][:2], axis=1).max()) < SMALL_ITEM_M:
            out |= tree
    return out


def _circle(r: float, z: float) -> np.ndarray:
    a = np.arange(_CIRCLE_N) * 2 * np.pi / _CIRCLE_N
    rr = r / np.cos(np.pi / _CIRCLE_N)  # circumscribed polygon: covers the circle
    return np.column_stack([rr * np.cos(a), rr * np.sin(a), np.full(_CIRCLE_N, z)])


def _sphere(r: float) -> np.ndarray:
    """Points whose convex hull covers a sphere of radius r (for projections and heights)."""
    rings = [_circle(r * np.cos(e), r * np.sin(e)) for e in np.linspace(-np.pi / 2, np.pi / 2, 7)]
    pts = np.concatenate(rings)
    return pts / np.cos(np.pi / 12)  # 7 rings are 30 deg apart: scale so the hull covers the sphere


def _geom_points(model: mujoco.MjModel, data: mujoco.MjData, g: int) -> np.ndarray:
    """World points whose convex hull covers geom g (exact corners for boxes)."""
    t, size = model.geom_type[g], model.geom_size[g]
    G = mujoco.mjtGeom
    if t == G.mjGEOM_BOX:
        local = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]) * size
    elif t == G.mjGEOM_CYLINDER:
        local = np.concatenate([_circle(size[0], -size[1]), _circle(size[0], size[1])])
    elif t == G.mjGEOM_SPHERE:
        local = _sphere(size[0])
    elif t == G.mjGEOM_CAPSULE:
        s = _sphere(size[0])
        local = np.concatenate([s + [0, 0, size[1]], s - [0, 0, size[1]]])
    elif t == G.mjGEOM_ELLIPSOID:
        local = _sphere(1.0) * size
    else:  # meshes, height fields, SDFs: the geom's bounding box
        c, h = model.geom_aabb[g][:3], model.geom_aabb[g][3:]
        local = c + np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]) * h
    rot = data.geom_xmat[g].reshape(3, 3)
    return local @ rot.T + data.geom_xpos[g]


def _convex_hull(pts: np.ndarray) -> np.ndarray:
    """Counter-clockwise convex hull (Andrew's monotone chain)."""
    p = np.unique(np.round(pts, 9), axis=0)
    if len(p) < 3:
        return p

    def half(seq: np.ndarray) -> list[np.ndarray]:
        out: list[np.ndarray] = []
        for q in seq:
            while len(out) >= 2 and _cross(out[-2], out[-1], q) <= 0:
                out.pop()
            out.append(q)
        return out

    lower, upper = half(p), half(p[::-1])
    return np.array(lower[:-1] + upper[:-1])


def _cross(o: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    return float((a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]))


def _inside(poly: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Which of `pts` (n, 2) lie inside the counter-clockwise convex polygon (edges included)."""
    inside = np.ones(len(pts), dtype=bool)
    for a, b in zip(poly, np.roll(poly, -1, axis=0), strict=True):
        inside &= (b[0] - a[0]) * (pts[:, 1] - a[1]) - (b[1] - a[1]) * (pts[:, 0] - a[0]) >= -1e-12
    return inside


def _polygon_distance(poly: np.ndarray, p: np.ndarray) -> float:
    if len(poly) >= 3 and _inside(poly, p[None, :])[0]:
        return 0.0
    best = np.inf
    for a, b in zip(poly, np.roll(poly, -1, axis=0), strict=True):
        ab = b - a
        t = 0.0 if not ab.any() else float(np.clip(np.dot(p - a, ab) / np.dot(ab, ab), 0.0, 1.0))
        best = min(best, float(np.linalg.norm(p - (a + t * ab))))
    return best


def _rasterize(
    poly: np.ndarray, origin: np.ndarray, cell: float, occupied: np.ndarray, label: np.ndarray, k: int
) -> None:
    """Mark the cells whose centres lie in the polygon and every cell its outline passes
    through, so that a footprint thinner than a cell (a 2 cm door, a trash can's wall) counts."""
    ny, nx = occupied.shape
    lo = np.floor((poly.min(axis=0) - origin) / cell).astype(int)
    hi = np.ceil((poly.max(axis=0) - origin) / cell).astype(int)
    j0, i0 = max(lo[0], 0), max(lo[1], 0)
    j1, i1 = min(hi[0], nx - 1), min(hi[1], ny - 1)
    if j0 > j1 or i0 > i1:
        return
    jj, ii = np.meshgrid(np.arange(j0, j1 + 1), np.arange(i0, i1 + 1))
    jj, ii = jj.ravel(), ii.ravel()
    centres = origin + np.column_stack([jj, ii]) * cell
    hit = _inside(poly, centres) if len(poly) >= 3 else np.zeros(len(centres), dtype=bool)
    rows, cols = [ii[hit]], [jj[hit]]
    for a, b in zip(poly, np.roll(poly, -1, axis=0), strict=True):
        n = max(1, int(np.ceil(np.linalg.norm(b - a) / (cell / 2))))
        pts = a + np.linspace(0.0, 1.0, n + 1)[:, None] * (b - a)
        idx = np.rint((pts - origin) / cell).astype(int)
        ok = (idx[:, 0] >= 0) & (idx[:, 0] < nx) & (idx[:, 1] >= 0) & (idx[:, 1] < ny)
        rows.append(idx[ok, 1])
        cols.append(idx[ok, 0])
    ii, jj = np.concatenate(rows), np.concatenate(cols)
    fresh = label[ii, jj] < 0
    occupied[ii, jj] = True
    label[ii[fresh], jj[fresh]] = k
