"""The walking policy's steady response: each command held alone, the velocity the robot reaches.

    python -m benchmarks.walk_response [--walk PATH.onnx ...] [--svg docs/img/walk_response.svg]

For a grid of commands along each axis (forward vx, sideways vy, turn wz, one axis at a time),
a fresh `SimWorld` on the open floor runs the deployed path (`ControlLoop` +
`LocomotionController`, no pushes, arms at home): the command is held for `--settle` s, then
the base velocity is averaged over the next `--measure` s (whole strides: 6 periods of 0.7 s).
The result per command is the achieved (vx, vy, wz); the ideal is the command itself.

Why it exists: the path tracker's speeds (`motion/path_tracker.py`) must sit where the shipped
policy actually moves, and a random-command RMS does not show where a policy is weak. This
shows dead zones (walk_v6: 0.1 m/s forward asked, none reached), gains below one (sideways)
and cross-talk (side-stepping that also turns). Each `--walk` file is one curve; without any,
the manifest's walking policy. Summary per axis: RMS of (achieved - asked) over the grid, and
the same for the stepping reference alone (zero action) as the in-process baseline.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from benchmarks.walking import hold_velocity, legs_controller
from bridge.sim_world import SimWorld
from control.loop import ControlLoop
from humanoid.robot_spec import load_robot_spec
from motion.path_tracker import pose_from_state, wrap
from scenarios.world import build_world

AXES = {
    "vx": (0, np.array([-0.3, -0.2, -0.1, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6]), "forward (m/s)"),
    "vy": (1, np.array([-0.3, -0.2, -0.1, 0.1, 0.2, 0.3]), "sideways (m/s)"),
    "wz": (2, np.array([-0.8, -0.6, -0.4, -0.2, 0.2, 0.4, 0.6, 0.8]), "turn (rad/s)"),
}


def steady_velocity(world, spec, command: np.ndarray, settle_s: float, measure_s: float, reference_only: bool) -> tuple[np.ndarray, bool]:
    """(achieved vx, vy, wz averaged over `measure_s` after `settle_s`, fell)."""
    sim = SimWorld(world, seed=0)
    loop = ControlLoop(spec, sim, legs_controller(spec, reference_only))
    if hold_velocity(loop, 1, command, settle_s).status != "ok":
        return np.full(3, np.nan), True
    x0, y0, yaw0 = pose_from_state(loop.state.base_pos, loop.state.base_quat)
    res = hold_velocity(loop, 2, command, measure_s)
    if res.status != "ok":
        return np.full(3, np.nan), True
    # the average velocity over whole strides, in the heading frame at the start of the window
    x1, y1, yaw1 = pose_from_state(res.state.base_pos, res.state.base_quat)
    dyaw = wrap(yaw1 - yaw0)
    d = np.array([x1 - x0, y1 - y0])
    c, s = np.cos(yaw0 + dyaw / 2), np.sin(yaw0 + dyaw / 2)  # mid-window heading: a turning walk's chord
    return np.array([(c * d[0] + s * d[1]) / measure_s, (-s * d[0] + c * d[1]) / measure_s, dyaw / measure_s]), False


def measure(world, spec, settle_s: float, measure_s: float, reference_only: bool = False) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for axis, (k, grid, _) in AXES.items():
        rows = []
        for v in grid:
            cmd = np.zeros(3)
            cmd[k] = v
            got, fell = steady_velocity(world, spec, cmd, settle_s, measure_s, reference_only)
            rows.append({"asked": float(v), "achieved": got.tolist(), "fell": fell})
        out[axis] = rows
    return out


def axis_rms(rows: list[dict], k: int) -> float:
    """RMS of (achieved - asked) on the axis; a fall counts as reaching nothing."""
    err = [(0.0 if r["fell"] else r["achieved"][k]) - r["asked"] for r in rows]
    return float(np.sqrt(np.mean(np.square(err))))


def svg(curves: dict[str, dict[str, list[dict]]], path: Path) -> None:
    """Three panels (vx, vy, wz): achieved against asked, one line per policy, the ideal dashed."""
    w, h, pad = 260, 240, 40
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{3 * w + 20}" height="{h + 48}" font-family="sans-serif" font-size="11">']
    for p, (axis, (k, grid, label)) in enumerate(AXES.items()):
        x0 = 10 + p * w
        lo, hi = float(grid.min()), float(grid.max())
        sx = lambda v, x0=x0, lo=lo, hi=hi: x0 + pad + (v - lo) / (hi - lo) * (w - pad - 10)  # noqa: E731
        sy = lambda v, lo=lo, hi=hi: 10 + (hi - v) / (hi - lo) * (h - pad - 10)  # noqa: E731
        parts.append(f'<rect x="{x0 + pad}" y="10" width="{w - pad - 10}" height="{h - pad - 10}" fill="none" stroke="#999"/>')
        parts.append(f'<line x1="{sx(lo)}" y1="{sy(lo)}" x2="{sx(hi)}" y2="{sy(hi)}" stroke="#999" stroke-dasharray="4 3"/>')
        parts.append(f'<line x1="{sx(lo)}" y1="{sy(0)}" x2="{sx(hi)}" y2="{sy(0)}" stroke="#ddd"/>')
        parts.append(f'<line x1="{sx(0)}" y1="10" x2="{sx(0)}" y2="{h - pad}" stroke="#ddd"/>')
        for v in (lo, 0.0, hi):
            parts.append(f'<text x="{sx(v)}" y="{h - pad + 14}" text-anchor="middle">{v:g}</text>')
            parts.append(f'<text x="{x0 + pad - 4}" y="{sy(v) + 4}" text-anchor="end">{v:g}</text>')
        parts.append(f'<text x="{x0 + pad + (w - pad) / 2}" y="{h - pad + 30}" text-anchor="middle">asked: {label}</text>')
        for c, data in enumerate(curves.values()):
            pts = [(r["asked"], r["achieved"][k]) for r in data[axis] if not r["fell"]]
            colour = colours[c % len(colours)]
            line = " ".join(f"{sx(a):.1f},{sy(float(np.clip(b, lo, hi))):.1f}" for a, b in pts)
            parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>')
            for r in data[axis]:
                if r["fell"]:
                    parts.append(f'<text x="{sx(r["asked"])}" y="{sy(0) - 4}" fill="{colour}" text-anchor="middle">x</text>')
    for c, name in enumerate(curves):
        parts.append(f'<text x="{10 + pad + c * 180}" y="{h + 20}" fill="{colours[c % len(colours)]}">— {name}</text>')
    parts.append(f'<text x="{10 + pad}" y="{h + 38}" fill="#555">achieved against asked, one axis at a time; dashed: ideal; x: fell</text>')
    parts.append("</svg>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--walk", action="append", default=[], metavar="PATH.onnx", help="a walking policy to measure (repeatable)")
    ap.add_argument("--robot", default="reference_humanoid")
    ap.add_argument("--settle", type=float, default=3.0, help="seconds before measuring (the ramps and one stride)")
    ap.add_argument("--measure", type=float, default=4.2, help="seconds averaged (6 strides of 0.7 s)")
    ap.add_argument("--svg", type=Path, help="draw achieved against asked here")
    args = ap.parse_args(argv)
    base = load_robot_spec(args.robot)
    world = build_world("open_floor", base)
    specs = {Path(p).stem: base.with_policy_file("walk", p) for p in args.walk} or {Path(base.policy("walk").path).stem: base}
    curves: dict[str, dict[str, list[dict]]] = {}
    t0 = time.perf_counter()
    for name, spec in specs.items():
        curves[name] = measure(world, spec, args.settle, args.measure)
        print(f"measured {name} ({time.perf_counter() - t0:.0f} s)", flush=True)
    first = next(iter(specs.values()))
    curves["stepping reference alone"] = measure(world, first, args.settle, args.measure, reference_only=True)
    for axis, (_, _, label) in AXES.items():
        print(f"\n{label}")
        print(f"{'asked':>8s}" + "".join(f"{n[:26]:>28s}" for n in curves))
        for i, r in enumerate(curves[next(iter(curves))][axis]):
            cells = []
            for data in curves.values():
                row = data[axis][i]
                cells.append("fell" if row["fell"] else "(" + ", ".join(f"{v:+.2f}" for v in row["achieved"]) + ")")
            print(f"{r['asked']:8.2f}" + "".join(f"{c:>28s}" for c in cells))
    print("\nRMS of (achieved - asked) over the grid, per axis (a fall counts as zero reached):")
    ref = curves["stepping reference alone"]
    for name, data in curves.items():
        cells = []
        for axis, (k, _, _) in AXES.items():
            e, e_ref = axis_rms(data[axis], k), axis_rms(ref[axis], k)
            cells.append(f"{axis} {e:.3f} ({e / e_ref:.2f} of the reference alone)")
        print(f"  {name[:26]:26s} " + "; ".join(cells))
    if args.svg:
        svg(curves, args.svg)
        print(f"drew {args.svg}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
