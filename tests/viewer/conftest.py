"""Traces for the viewer's tests: one real run (made once per session), a replanning run,
a crashed run's truncated copy and a file that is not a trace, all in one folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from viewer_runs import write_replan_run


@pytest.fixture(scope="session")
def real_trace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The trace of a real `humanoid run "make me a coffee"` (three processes, ~20 s)."""
    out = tmp_path_factory.mktemp("real_run")
    trace = out / "coffee.mcap"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "humanoid.cli", "run", "make me a coffee", "--trace", str(trace), "--quiet"],
        cwd=out,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"the real run failed:\n{done.stdout}\n{done.stderr}"
    return trace


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory: pytest.TempPathFactory, real_trace: Path) -> Path:
    """A folder of runs as an operator has them: ok, replanned, crashed, and not a trace at all."""
    runs = tmp_path_factory.mktemp("runs")
    shutil.copy(real_trace, runs / "a_coffee.mcap")
    write_replan_run(runs / "b_replan.mcap")
    data = real_trace.read_bytes()
    (runs / "c_crashed.mcap").write_bytes(data[: len(data) // 2])  # killed halfway through
    (runs / "d_not_a_trace.mcap").write_text("this is a shopping list, not a trace\n")
    # the same order (by modification time) as the viewer lists them
    for i, name in enumerate(("a_coffee", "b_replan", "c_crashed", "d_not_a_trace")):
        os.utime(runs / f"{name}.mcap", (1_700_000_000 + i, 1_700_000_000 + i))
    return runs
