"""The runner end to end on a few quick scenarios: verdicts, JUnit, kills at the wall-time limit,
and the same seed giving the same run. The full library runs in `humanoid test`, not here."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from humanoid.trace.reader import read_trace
from scenarios.report import junit, table
from scenarios.runner import run_suite
from scenarios.scenario import LIBRARY_DIR

pytestmark = pytest.mark.slow

RANDOMIZED_FETCH = """\
id: fetch_randomized
command: bring me the blue mug
seeds: [1]
randomize:
  object_poses: {mug_blue: 0.01}
  mass: [0.9, 1.1]
success:
  all_of: ["at(mug_blue, user)"]
"""
HANG = """\
id: planner_hangs_fast
command: make me a coffee
perturbations:
  - kind: planner_hang
expect: {outcome: error, reason_contains: wall-time limit}
success: {never: []}
wall_time_limit_s: 10
"""


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("suite")
    (tmp / "fetch_randomized.yaml").write_text(RANDOMIZED_FETCH)
    (tmp / "fetch_randomized_again.yaml").write_text(
        RANDOMIZED_FETCH.replace("fetch_randomized", "fetch_randomized_again")
    )
    (tmp / "planner_hangs_fast.yaml").write_text(HANG)
    (tmp / "broken.yaml").write_text(
        "id: broken\ncommand: make me a coffee\nperturbations: [{kind: earthquake, at_s: 1}]\n"
    )
    paths = [str(tmp), str(LIBRARY_DIR / "impossible_command.yaml"), str(LIBRARY_DIR / "simulator_dies.yaml")]
    summaries = run_suite(paths, tmp / "out", workers=2)
    junit(summaries, tmp / "junit.xml")
    return {s.id: s for s in summaries}, tmp


def test_expected_refusal_and_error_pass(suite):
    by_id, _ = suite
    assert by_id["impossible_command"].accepted, table(list(by_id.values()))
    assert by_id["impossible_command"].results[0].outcome == "refused"
    dead = by_id["simulator_dies"].results[0]
    assert dead.outcome == "error" and dead.passed and dead.trace_readable


def test_a_hang_is_killed_at_its_wall_time_limit_with_a_partial_trace(suite):
    by_id, _ = suite
    r = by_id["planner_hangs_fast"].results[0]
    assert r.outcome == "error" and "wall-time limit of 10 s" in r.reason and r.passed
    trace = read_trace(r.trace)
    assert trace.meta["command"] == "make me a coffee"
    assert trace.end is not None and trace.end["exit_code"] == 130  # closed on SIGTERM


def test_a_malformed_scenario_fails_alone_with_a_pointed_message(suite):
    by_id, _ = suite
    assert by_id["broken"].status == "INVALID"
    assert (
        "broken.yaml:3: field 'perturbations.0.kind': unknown perturbation 'earthquake'"
        in by_id["broken"].invalid
    )
    assert by_id["fetch_randomized"].results  # the others still ran


def test_same_seed_same_machine_same_result(suite):
    by_id, _ = suite
    a, b = by_id["fetch_randomized"].results[0], by_id["fetch_randomized_again"].results[0]
    assert a.passed and b.passed, table(list(by_id.values()))
    ta, tb = read_trace(a.trace), read_trace(b.trace)
    heights = [[m.payload["base_height"] for m in t.topic("/control/telemetry")] for t in (ta, tb)]
    assert heights[0] and heights[0] == heights[1]
    finals = [t.topic("/world/final")[-1].payload["objects"] for t in (ta, tb)]
    assert finals[0] == finals[1]


def test_junit_has_one_testcase_per_scenario_and_seed(suite):
    _, tmp = suite
    root = ET.parse(tmp / "junit.xml").getroot()
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert suites["broken"].find("testcase/error") is not None
    assert suites["impossible_command"].find("testcase/failure") is None
    assert suites["fetch_randomized"].find("testcase").get("name") == "seed1"


def test_the_same_batch_runs_as_ray_tasks(tmp_path):
    pytest.importorskip("ray")
    import ray

    paths = [str(LIBRARY_DIR / "impossible_command.yaml"), str(LIBRARY_DIR / "red_mug_missing_asked.yaml")]
    try:
        summaries = run_suite(paths, tmp_path / "out", ray_address=None)
    finally:
        ray.shutdown()
    assert all(s.accepted for s in summaries), table(summaries)
    assert [r.outcome for s in summaries for r in s.results] == ["refused", "refused"]
