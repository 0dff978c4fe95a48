"""The scenario suite, measured: its wall time, each scenario's sim/wall ratio, and how it scales.

    python -m benchmarks.scenario_suite [--report runs/suite-full/report.json] [--subset a,b,c] [--no-ray]

1. The full suite (every scenario x seed) with the default local pool, or the figures of a
   `humanoid test` report already made on this machine (`--report`), so the benchmark does
   not pay for the suite twice.
2. Per scenario: simulated seconds per wall second of its runs (start-up included).
3. Scaling on a subset of short scenarios: 1 worker vs 2 workers (baseline: 1 worker), and
   the same 2-way batch as Ray tasks on a local Ray instance (Ray start-up reported apart).
Numbers come from this machine only; compare them with runs on the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from scenarios.runner import ScenarioSummary, run_suite
from scenarios.scenario import LIBRARY_DIR

DEFAULT_SUBSET = ("fetch_blue_mug", "hand_over_red_mug", "sensor_noise", "message_corruption")


def _paths(names: list[str]) -> list[str]:
    return [str(LIBRARY_DIR / f"{n}.yaml") for n in names]


def _timed(paths: list[str], out: Path, **kw) -> tuple[float, list[ScenarioSummary]]:
    t0 = time.monotonic()
    with open(os.devnull, "w") as quiet:
        summaries = run_suite(paths, out, progress_out=quiet, **kw)
    return time.monotonic() - t0, summaries


def _ratios(scenarios: list[dict]) -> list[tuple[str, float, float, float | None]]:
    rows = []
    for s in scenarios:
        runs = [r for r in s["results"] if r.get("wall_time_s")]
        if not runs:
            continue
        sim = sum(r.get("sim_time_s") or 0.0 for r in runs)
        wall = sum(r["wall_time_s"] for r in runs)
        rows.append((s["id"], sim / len(runs), wall / len(runs), sim / wall if wall else None))
    return rows


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.scenario_suite")
    p.add_argument("--report", help="report.json of a full `humanoid test` run on this machine (else run it)")
    p.add_argument("--subset", default=",".join(DEFAULT_SUBSET))
    p.add_argument("--no-ray", action="store_true")
    p.add_argument(
        "--repeat", type=int, default=3, help="rounds of the scaling runs (best of them is reported)"
    )
    p.add_argument("--out", default="runs/bench-suite")
    args = p.parse_args()
    out = Path(args.out)
    cores = os.cpu_count()
    print(f"machine: {cores} cores")

    if args.report:
        report = json.loads(Path(args.report).read_text())
        full_wall = report["wall_time_s"]
        scenarios = report["scenarios"]
    else:
        full_wall, summaries = _timed([str(LIBRARY_DIR)], out / "full")
        scenarios = [{"id": s.id, "results": [r.to_dict() for r in s.results]} for s in summaries]
    n_runs = sum(len(s["results"]) for s in scenarios)
    print(
        f"\nfull suite: {len(scenarios)} scenarios, {n_runs} runs, wall {full_wall:.0f} s (local pool, {cores} workers)"
    )
    print(f"\n{'scenario':30s} {'sim s':>7s} {'wall s':>7s} {'sim/wall':>9s}")
    for sid, sim, wall, ratio in _ratios(scenarios):
        print(f"{sid:30s} {sim:7.1f} {wall:7.1f} {ratio if ratio is not None else float('nan'):9.2f}")

    subset = _paths(args.subset.split(","))
    # alternate the configurations, so a slow moment of a shared machine does not favour one
    times: dict[str, list[float]] = {"local, 1 worker": [], "local, 2 workers": [], "Ray, local, 2 CPUs": []}
    ray_start = None
    for i in range(args.repeat):
        times["local, 1 worker"].append(_timed(subset, out / f"w1-{i}", workers=1)[0])
        times["local, 2 workers"].append(_timed(subset, out / f"w2-{i}", workers=2)[0])
        if not args.no_ray:
            import ray

            t0 = time.monotonic()
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            ray_start = time.monotonic() - t0
            times["Ray, local, 2 CPUs"].append(_timed(subset, out / f"ray-{i}", ray_address=None)[0])
            ray.shutdown()
    base = min(times["local, 1 worker"])
    print(f"\nsubset {args.subset} ({len(subset)} runs), {args.repeat} rounds")
    print(f"{'runner':24s} {'best wall s':>12s} {'all rounds':>20s} {'speed-up vs 1 worker':>22s}")
    for name, ts in times.items():
        if ts:
            rounds = " ".join(f"{t:.1f}" for t in ts)
            print(f"{name:24s} {min(ts):12.1f} {rounds:>20s} {base / min(ts):22.2f}")
    if ray_start is not None:
        print(f"(Ray start-up, not included above: {ray_start:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
