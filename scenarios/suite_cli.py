"""`humanoid test`: the scenario suite as CI runs it; exit 0 only when every scenario is accepted."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from scenarios.report import junit, table
from scenarios.runner import run_suite


def main_test(args) -> int:
    out = Path(args.out) if args.out else Path("runs") / f"suite-{time.strftime('%Y%m%d-%H%M%S')}"
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else None
    ray_address: str | bool = False if args.ray is None else args.ray
    t0 = time.monotonic()
    summaries = run_suite(
        args.paths,
        out,
        workers=args.workers,
        ray_address=ray_address,
        video=args.video,
        tags=set(args.tag) or None,
        seeds=seeds,
    )
    wall = time.monotonic() - t0
    print(table(summaries))
    print(f"suite wall time {wall:.1f} s; traces under {out}")
    out.mkdir(parents=True, exist_ok=True)
    report = {
        "wall_time_s": wall,
        "runner": "ray" if ray_address is not False else "local",
        "scenarios": [
            {
                "id": s.id,
                "path": s.path,
                "status": s.status,
                "accepted": s.accepted,
                "success_rate": s.success_rate,
                "invalid": s.invalid,
                "skipped": s.skipped,
                "known_failure": s.scenario.known_failure if s.scenario else None,
                "results": [r.to_dict() for r in s.results],
            }
            for s in summaries
        ],
    }
    (out / "report.json").write_text(json.dumps(report, indent=1, default=str))
    if args.junit:
        junit(summaries, Path(args.junit))
        print(f"JUnit XML: {args.junit}")
    return 0 if all(s.accepted for s in summaries) else 1


if __name__ == "__main__":
    from humanoid.cli import main

    sys.exit(main(["test", *sys.argv[1:]]))
