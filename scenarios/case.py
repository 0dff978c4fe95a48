"""One scenario x seed: run it in its own process group under a wall-time limit, then judge it.

`run_case` is the unit of work both the local pool and Ray execute. The run itself is a child
process (`python -m scenarios.case ...`, which is `humanoid run` for one seed), so a hung or
crashing run can be killed with everything it started, and its partial trace still judged.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from scenarios.scenario import ScenarioError, load_scenario
from scenarios.verdict import CaseResult, judge

KILL_GRACE_S = 5.0  # after SIGTERM, time for the run to close its trace and stop its children


@dataclass(frozen=True)
class Case:
    scenario_path: str
    scenario_id: str
    seed: int
    out_dir: str
    wall_time_limit_s: float
    video: bool = False

    @property
    def trace_path(self) -> Path:
        return Path(self.out_dir) / self.scenario_id / f"seed{self.seed}" / "trace.mcap"


def run_case(case: Case) -> CaseResult:
    """Run one case to completion or to its wall-time limit; always returns a verdict."""
    trace = case.trace_path
    trace.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "scenarios.case",
        case.scenario_path,
        "--seed",
        str(case.seed),
        "--trace",
        str(trace),
    ]
    if case.video:
        cmd += ["--video", str(trace.with_name("video.mp4"))]
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_HUB_DISABLE_PROGRESS_BARS="1")
    t0 = time.monotonic()
    killed = None
    with open(trace.with_name("run.log"), "w") as log:
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        try:
            proc.wait(case.wall_time_limit_s)
        except subprocess.TimeoutExpired:
            killed = f"killed at its wall-time limit of {case.wall_time_limit_s:.0f} s"
            _stop_group(proc)
    wall = time.monotonic() - t0
    try:
        sc = load_scenario(case.scenario_path)
    except ScenarioError as exc:
        return CaseResult(case.scenario_id, case.seed, "error", False, True, str(exc), wall_time_s=wall)
    result = judge(sc, case.seed, trace, killed=killed, wall_time_s=wall)
    if killed is None and proc.returncode not in (0, 1, 2) and result.outcome != "error":
        result.outcome, result.passed, result.infra_error = "error", False, True
        result.reason = (
            f"the run process exited with code {proc.returncode}; see {trace.with_name('run.log')}"
        )
    return result


def _stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM the run's process group (the run closes its trace), then SIGKILL what is left."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(KILL_GRACE_S)
    except subprocess.TimeoutExpired:
        pass
    except ProcessLookupError:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _refusal_trace(trace_path: Path, sc, seed: int, command: str, message: str) -> None:
    """A refused command moves nothing, but the operator still gets a trace saying why."""
    from humanoid.trace.writer import TraceWriter

    meta = {
        "command": command,
        "scenario": sc.model_dump(mode="json"),
        "robot": sc.robot,
        "scene": sc.scene,
        "seed": seed,
    }
    with TraceWriter(trace_path, meta) as trace:
        trace.write(
            "/planner/event", {"event": "failed", "message": message, "refused": True, "sim_time": 0.0}
        )
        trace.close(
            {"exit_code": 2, "success": False, "outcome": "refused", "reason": message, "sim_time_s": 0.0}
        )


def main(argv: list[str] | None = None) -> int:
    """`python -m scenarios.case SCENARIO --seed N --trace PATH`: `humanoid run` for one seed."""
    p = argparse.ArgumentParser(prog="python -m scenarios.case")
    p.add_argument("scenario")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--trace", required=True)
    p.add_argument("--video")
    args = p.parse_args(argv)
    from humanoid.cli import _initial_observation
    from humanoid.run import RunOptions, run
    from planner.cli_support import plan_command
    from planner.errors import PlannerError

    sc = load_scenario(args.scenario)
    command = sc.command or ""
    try:
        # as `humanoid run` does: a command the robot cannot do is refused before anything starts
        plan_command(command, _initial_observation(sc))
    except PlannerError as exc:
        _refusal_trace(Path(args.trace), sc, args.seed, command, str(exc))
        print(f"refused: {exc}")
        return 2
    opts = RunOptions(
        command=command,
        scenario=sc,
        trace_path=Path(args.trace),
        seed=args.seed,
        video_path=Path(args.video) if args.video else None,
        quiet=False,
    )
    return run(opts)


if __name__ == "__main__":
    sys.exit(main())
