"""Trace viewer: how fast a long run's trace opens, and how much memory reading it takes.

Writes a synthetic trace of a run of `--minutes` of sim time with the real `TraceWriter`
(telemetry at 10 Hz as control/loop.py decimates it, a subgoal every 10 s with its motion
plans, replans, safety events, warnings, the scene map), then measures:

- indexing: `index_run` (one streaming pass) wall time and its peak Python memory
  (tracemalloc), against `read_trace` (everything in memory) as the baseline;
- the API: time for `GET /api/runs/{id}` from a cold server (index + JSON);
- the page: time from navigation to the page's `data-ready` mark in headless Chromium
  (timeline, tree, map and plots drawn), when Playwright and /usr/bin/chromium are there.

    .venv/bin/python -m benchmarks.viewer_open [--minutes 10] [--rounds 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
import tracemalloc
import urllib.request
from pathlib import Path
from typing import Any

from humanoid.trace import read_trace
from humanoid.viewer.synthetic import write_long_run


def _timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _peak_memory(fn: Any) -> tuple[float, float]:
    """(seconds, peak MiB of Python allocations); tracemalloc slows the call down, so the
    seconds are not the figure to report."""
    tracemalloc.start()
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return elapsed, peak / 2**20


def _page_open_s(path: Path, rounds: int) -> list[float] | None:
    """Seconds from navigation to the page drawn, each round on a fresh server (nothing cached)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path("/usr/bin/chromium").exists():
        return None
    from humanoid.viewer.server import running_server

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for _ in range(rounds):
            with running_server(path) as base:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                start = time.perf_counter()
                page.goto(f"{base}/#run=0")
                page.wait_for_function("document.body.dataset.ready === '0'", timeout=30_000)
                times.append(time.perf_counter() - start)
                page.close()
        browser.close()
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json")
    args = ap.parse_args(argv)

    from humanoid.viewer.run_index import index_run
    from humanoid.viewer.server import running_server

    with tempfile.TemporaryDirectory() as tmp:
        path = write_long_run(Path(tmp) / "long.mcap", args.minutes)
        size_mib = path.stat().st_size / 2**20
        index_s = min(_timed(lambda: index_run(path)) for _ in range(args.rounds))
        read_s = min(_timed(lambda: read_trace(path)) for _ in range(args.rounds))
        _, index_mib = _peak_memory(lambda: index_run(path))
        _, read_mib = _peak_memory(lambda: read_trace(path))
        view = index_run(path)
        with running_server(path) as base:
            start = time.perf_counter()
            with urllib.request.urlopen(f"{base}/api/runs/0") as response:
                body = response.read()
            api_cold_s = time.perf_counter() - start
        page = _page_open_s(path, args.rounds)
        figures = {
            "minutes": args.minutes,
            "trace_mib": round(size_mib, 2),
            "messages": view["messages"],
            "telemetry_samples": view["telemetry"]["count"],
            "telemetry_points_sent": view["telemetry"]["kept"],
            "subgoals": len(view["subgoals"]),
            "index_s": round(index_s, 3),
            "index_peak_mib": round(index_mib, 1),
            "read_trace_s": round(read_s, 3),
            "read_trace_peak_mib": round(read_mib, 1),
            "api_cold_s": round(api_cold_s, 3),
            "api_json_kib": round(len(body) / 1024),
            "page_open_s": [round(t, 3) for t in page] if page else None,
            "page_open_median_s": round(statistics.median(page), 3) if page else None,
            "python": platform.python_version(),
            "machine": platform.machine(),
        }
    for key, value in figures.items():
        print(f"{key:>24}  {value}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
