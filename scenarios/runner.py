"""The regression runner: every scenario x seed, in parallel, locally or on Ray.

`run_suite` loads the scenario files (a malformed one becomes an `invalid` row, the others
still run), expands them into cases, runs the cases on a local pool of worker threads (each
case is its own process group, see scenarios/case.py) or as Ray tasks, and folds the verdicts
into one `ScenarioSummary` per scenario with its acceptance.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from scenarios.case import Case, run_case
from scenarios.scenario import LIBRARY_DIR, Scenario, ScenarioError, load_scenario, scenario_paths
from scenarios.verdict import CaseResult


@dataclass
class ScenarioSummary:
    """One scenario's seeds folded together, with its acceptance."""

    id: str
    path: str
    scenario: Scenario | None
    results: list[CaseResult] = field(default_factory=list)
    invalid: str | None = None  # the schema error of a malformed file
    skipped: str | None = None  # why it was not run (needs a capability not built yet)

    @property
    def success_rate(self) -> float:
        return sum(r.passed for r in self.results) / len(self.results) if self.results else 0.0

    @property
    def accepted(self) -> bool:
        if self.invalid:
            return False
        if self.skipped:
            return True
        assert self.scenario is not None
        return bool(self.results) and self.success_rate >= self.scenario.acceptance.min_success_rate

    @property
    def status(self) -> str:
        if self.invalid:
            return "INVALID"
        if self.skipped:
            return "SKIP"
        if not self.accepted:
            return "ERROR" if any(r.infra_error for r in self.results) else "FAIL"
        assert self.scenario is not None
        if self.scenario.known_failure:
            # a known failure that now passes every seed: time to drop the tag
            return "XPASS" if self.success_rate == 1.0 else "KNOWN-FAIL"
        return "PASS"


def discover(paths: Iterable[str | Path]) -> list[Path]:
    """Scenario files under the given files/folders (default: the library)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += scenario_paths(p)
        elif p.is_file():
            out.append(p)
        elif (LIBRARY_DIR / f"{p}.yaml").is_file():
            out.append(LIBRARY_DIR / f"{p}.yaml")
        else:
            raise ScenarioError(f"{p}: no such scenario file or folder")
    return out


def load_all(files: list[Path], tags: set[str] | None = None) -> list[ScenarioSummary]:
    summaries = []
    for f in files:
        try:
            sc = load_scenario(str(f))
        except ScenarioError as exc:
            summaries.append(ScenarioSummary(f.stem, str(f), None, invalid=str(exc)))
            continue
        if tags and not tags & set(sc.tags):
            continue
        s = ScenarioSummary(sc.id, str(f), sc)
        if sc.needs:
            s.skipped = f"needs {', '.join(sc.needs)} (not built yet)"
        summaries.append(s)
    return summaries


def cases_of(
    summaries: list[ScenarioSummary], out_dir: Path, video: bool = False, seeds: list[int] | None = None
) -> list[Case]:
    cases = []
    for s in summaries:
        if s.scenario is None or s.skipped:
            continue
        for seed in seeds if seeds is not None else s.scenario.seed_list:
            vid = video or s.scenario.artifacts.video
            # absolute: a Ray worker need not share our working directory
            cases.append(Case(s.path, s.id, seed, str(out_dir.resolve()), s.scenario.wall_time_limit_s, vid))
    # longest first: the pool ends sooner when the long runs do not start last
    return sorted(cases, key=lambda c: -c.wall_time_limit_s)


class Progress:
    """One live line: done/total, running, pass/fail/error, elapsed."""

    def __init__(self, total: int, out: TextIO = sys.stderr) -> None:
        self.total, self.out, self.t0 = total, out, time.monotonic()
        self.done: list[CaseResult] = []
        self.tty = out.isatty()

    def update(self, r: CaseResult | None = None, running: int = 0) -> None:
        if r is not None:
            self.done.append(r)
        n_pass = sum(x.passed for x in self.done)
        n_err = sum(x.infra_error for x in self.done)
        line = (
            f"[{len(self.done)}/{self.total}] {running} running, {n_pass} passed, "
            f"{len(self.done) - n_pass - n_err} failed, {n_err} errors, {time.monotonic() - self.t0:.0f} s"
        )
        if r is not None:
            line += f"  last: {r.scenario} seed {r.seed} {'ok' if r.passed else r.outcome}"
        self.out.write(("\r\033[K" + line) if self.tty else line + "\n")
        self.out.flush()

    def close(self) -> None:
        if self.tty:
            self.out.write("\n")


def run_local(cases: list[Case], workers: int, progress: Progress) -> list[CaseResult]:
    """A pool of `workers` threads, each waiting on one case's process group at a time."""
    results = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [pool.submit(run_case, c) for c in cases]
        progress.update(running=min(workers, len(cases)))
        for fut in as_completed(futures):
            results.append(fut.result())
            left = len(cases) - len(results)
            progress.update(results[-1], running=min(workers, left))
    return results


def run_ray(cases: list[Case], address: str | None, progress: Progress) -> list[CaseResult]:
    """The same cases as Ray tasks (one CPU each); `address` None starts a local Ray instance."""
    try:
        import ray
    except ImportError:
        raise ScenarioError("--ray needs Ray: pip install -e '.[ray]'") from None
    if not ray.is_initialized():
        # the working tree travels with the job so remote workers import the same code
        runtime_env = {
            "working_dir": str(Path(__file__).resolve().parents[1]),
            "excludes": ["runs/", ".venv/", "*.mcap", "*.mp4"],
        }
        if address:
            ray.init(address=address, runtime_env=runtime_env, log_to_driver=False)
        else:
            ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    task = ray.remote(num_cpus=1)(_ray_case)
    pending = {task.remote(c): c for c in cases}
    results = []
    progress.update(running=len(pending))
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        for ref in done:
            pending.pop(ref)
            results.append(CaseResult.from_dict(ray.get(ref)))
            progress.update(results[-1], running=len(pending))
    return results


def _ray_case(case: Case) -> dict:
    return run_case(case).to_dict()  # plain data crosses Ray's object store


def run_suite(
    paths: list[str],
    out_dir: Path,
    workers: int | None = None,
    ray_address: str | None | bool = False,
    video: bool = False,
    tags: set[str] | None = None,
    seeds: list[int] | None = None,
    progress_out: TextIO = sys.stderr,
    on_cases: Callable[[list[Case]], None] | None = None,
) -> list[ScenarioSummary]:
    summaries = load_all(discover(paths or [str(LIBRARY_DIR)]), tags)
    cases = cases_of(summaries, out_dir, video, seeds)
    if on_cases:
        on_cases(cases)
    progress = Progress(len(cases), progress_out)
    if ray_address is not False:
        results = run_ray(cases, ray_address or None, progress)
    else:
        results = run_local(cases, workers or os.cpu_count() or 1, progress)
    progress.close()
    by_id = {s.id: s for s in summaries}
    for r in sorted(results, key=lambda r: (r.scenario, r.seed)):
        by_id[r.scenario].results.append(r)
    return summaries
