"""End to end through all four layers and three processes: the product as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from humanoid.trace.reader import read_trace

pytestmark = pytest.mark.slow


def _run(args: list[str], tmp_path: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    return subprocess.run(
        [sys.executable, "-m", "humanoid.cli", "run", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=timeout,
    )


def _topics(trace) -> list[str]:
    return [m.topic for m in trace.messages]


@pytest.fixture(scope="module")
def coffee_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("coffee")
    trace_path = tmp_path / "coffee.mcap"
    return _run(["make me a coffee", "--trace", str(trace_path)], tmp_path), trace_path


def _subgoal_results(trace) -> list[tuple]:
    out = []
    for m in trace.topic("/planner/subgoal"):
        r = m.payload.get("result")
        if r:
            out.append((r["subgoal"]["skill"], r["succeeded"], round(r["sim_time_end"], 6)))
    return out


def test_make_me_a_coffee(coffee_run):
    r, trace_path = coffee_run
    assert r.returncode == 0, r.stdout + r.stderr
    assert "plan v1" in r.stdout and "press(" in r.stdout and "done" in r.stdout
    trace = read_trace(trace_path)
    assert trace.damage is None
    topics = _topics(trace)
    for topic in ("/run/meta", "/planner/goal", "/planner/plan", "/planner/subgoal", "/motion/plan", "/control/telemetry", "/run/end"):
        assert topic in topics, topic
    end = [m for m in trace.messages if m.topic == "/run/end"][-1]
    assert end.payload["exit_code"] == 0
    results = _subgoal_results(trace)
    assert [s for s, _, _ in results] == ["navigate", "pick", "place", "press", "pick", "navigate", "place"]
    assert all(ok for _, ok, _ in results)


def test_same_seed_same_run(coffee_run, tmp_path):
    """Lockstep: the same seed on the same machine gives the same run, to the physics step."""
    _, first = coffee_run
    again = tmp_path / "again.mcap"
    r = _run(["make me a coffee", "--trace", str(again)], tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    a, b = read_trace(first), read_trace(again)
    assert _subgoal_results(a) == _subgoal_results(b)
    tel_a = [m.payload["base_height"] for m in a.topic("/control/telemetry")]
    tel_b = [m.payload["base_height"] for m in b.topic("/control/telemetry")]
    assert tel_a == tel_b


def test_dead_simulator_ends_the_run_with_a_clear_error_and_a_readable_trace(tmp_path):
    trace_path = tmp_path / "dead.mcap"
    r = _run(["--scenario", "simulator_dies", "--trace", str(trace_path)], tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    assert "the simulator process died (exit code 17)" in r.stdout + r.stderr
    trace = read_trace(trace_path)
    assert "/planner/plan" in _topics(trace)
    end = [m for m in trace.messages if m.topic == "/run/end"][-1].payload
    assert end["exit_code"] == 1 and "simulator process died" in end["reason"]


def test_operator_rejects_the_plan_and_nothing_is_dispatched(tmp_path):
    trace_path = tmp_path / "rejected.mcap"
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    r = subprocess.run(
        [sys.executable, "-m", "humanoid.cli", "run", "make me a coffee", "--approve", "--trace", str(trace_path)],
        input="r\nnot today\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert r.returncode == 1, r.stdout + r.stderr
    assert "the operator rejected plan v1" in r.stdout
    trace = read_trace(trace_path)
    assert not [m for m in trace.topic("/planner/subgoal") if m.payload.get("event") in ("start", "subgoal_start")]
