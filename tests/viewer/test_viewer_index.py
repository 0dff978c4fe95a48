"""The viewer's server side: indexing a trace in one pass, finding runs, comparing two, the API."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from viewer_runs import write_replan_run

from humanoid.cli import build_parser, main
from humanoid.trace import TraceError
from humanoid.viewer.catalogue import RunCatalogue, discover
from humanoid.viewer.compare import compare_runs
from humanoid.viewer.run_index import MAX_PLOT_POINTS, index_run
from humanoid.viewer.server import DEFAULT_HOST, running_server
from humanoid.viewer.synthetic import write_long_run


@pytest.fixture
def replan(tmp_path: Path) -> Path:
    return write_replan_run(tmp_path / "replan.mcap")


def test_index_explains_a_replan(replan: Path) -> None:
    view = index_run(replan)
    assert view["outcome"] == "succeeded" and view["damage"] is None
    assert [p["version"] for p in view["plans"]] == [1, 2]
    second = view["plans"][1]
    assert second["reason"] == "step 0 pick(obj=mug_red) failed (grasp_lost)"
    assert second["diff"] == {
        "removed": ["pick(obj=mug_red)"],
        "added": ["pick(obj=mug_red, grasp=side)"],
        "kept": ["place(obj=mug_red, target=user)"],
    }
    failed = view["subgoals"][0]
    assert (failed["status"], failed["reason"], failed["duration_s"]) == ("failed", "grasp_lost", 3.0)
    assert [s["status"] for s in view["subgoals"]] == ["failed", "ok", "ok"]
    kinds = {e["kind"] for e in view["events"]}
    assert {"command", "plan", "replan", "safety", "approval", "end"} <= kinds
    assert view["map"]["executed_path"][-1] == [0.29, 0.0, 2.9]
    assert view["telemetry"]["max"]["torque"] == 39.0


def test_long_run_telemetry_is_decimated_but_maxima_are_exact(tmp_path: Path) -> None:
    view = index_run(write_long_run(tmp_path / "long.mcap", minutes=2))
    tel = view["telemetry"]
    assert tel["count"] == 1200
    assert MAX_PLOT_POINTS <= tel["kept"] < 2 * MAX_PLOT_POINTS
    assert len(tel["series"]["t"]) == tel["kept"] == len(tel["series"]["torque"])
    assert tel["max"]["latency_ms"] == pytest.approx(0.2)  # every 7th sample only: kept whatever the stride
    assert len(view["subgoals"]) == 12 and len(view["plans"]) == 1


def test_a_truncated_trace_shows_everything_up_to_the_damage(replan: Path, tmp_path: Path) -> None:
    data = replan.read_bytes()
    cut = tmp_path / "crashed.mcap"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    view = index_run(cut)
    assert view["outcome"] == "crashed"
    assert view["damage"]["kind"] in ("truncated", "unclosed")
    assert f"stops at byte {view['damage']['offset']}" in view["damage"]["note"]
    assert view["subgoals"] and view["subgoals"][0]["status"] == "failed"


def test_not_a_trace_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "notes.mcap"
    junk.write_text("hello")
    with pytest.raises(TraceError, match="is not an MCAP trace"):
        index_run(junk)
    with pytest.raises(TraceError, match="is not an MCAP trace"):
        discover(junk)
    with pytest.raises(TraceError, match="holds no .mcap traces"):
        discover(_empty(tmp_path))


def _empty(tmp_path: Path) -> Path:
    empty = tmp_path / "empty"
    empty.mkdir()
    return empty


def test_runs_come_from_a_folder_or_a_scenario_report(replan: Path, tmp_path: Path) -> None:
    other = write_replan_run(tmp_path / "sub" / "trace.mcap")
    assert set(discover(tmp_path)) == {replan, other}
    report = tmp_path / "report.json"
    report.write_text(
        json.dumps({"scenarios": [{"id": "x", "trace": "sub/trace.mcap"}, {"id": "y", "trace": str(replan)}]})
    )
    assert discover(report) == [other, replan]
    junit = tmp_path / "junit.xml"
    junit.write_text(
        f'<testsuites><testsuite name="x"><testcase name="x[0]"><properties>'
        f'<property name="trace" value="{replan}"/></properties></testcase></testsuite></testsuites>'
    )
    assert discover(junit) == [replan]
    catalogue = RunCatalogue(report)
    assert [catalogue.summary(e)["name"] for e in catalogue.entries()] == ["sub", "replan.mcap"]


def test_compare_finds_where_two_runs_diverged(replan: Path, tmp_path: Path) -> None:
    a = {**index_run(replan), "id": "a"}
    b = {**index_run(write_long_run(tmp_path / "long.mcap", minutes=0.5)), "id": "b"}
    cmp = compare_runs(a, a)
    assert cmp["diverged_at"] is None
    cmp = compare_runs(a, b)
    assert cmp["diverged_at"] == 0 and "grasp_lost" in cmp["summary"]


def test_the_server_binds_to_localhost_unless_told_otherwise() -> None:
    args = build_parser().parse_args(["trace", "serve"])
    assert (args.host, args.path) == (DEFAULT_HOST, "runs") and DEFAULT_HOST == "127.0.0.1"


def test_trace_serve_refuses_a_file_that_is_not_a_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    junk = tmp_path / "junk.mcap"
    junk.write_bytes(b"\x00" * 100)
    assert main(["trace", "serve", str(junk)]) == 2
    assert "is not an MCAP trace" in capsys.readouterr().err


def test_api_serves_runs_and_errors(replan: Path, tmp_path: Path) -> None:
    (tmp_path / "junk.mcap").write_text("not a trace")
    with running_server(tmp_path) as base:
        runs = json.load(urllib.request.urlopen(f"{base}/api/runs"))["runs"]
        by_name = {r["name"]: r for r in runs}
        assert by_name["replan.mcap"]["command"] == "bring me the red mug"
        assert "is not an MCAP trace" in by_name["junk.mcap"]["error"]
        view = json.load(urllib.request.urlopen(f"{base}/api/runs/{by_name['replan.mcap']['id']}"))
        assert len(view["subgoals"]) == 3
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{base}/api/runs/{by_name['junk.mcap']['id']}")
        assert err.value.code == 422 and "is not an MCAP trace" in json.load(err.value)["error"]
        page = urllib.request.urlopen(f"{base}/").read().decode()
        assert "/static/vendor/uPlot.iife.min.js" in page and "http" not in page.replace(
            "http://www.w3.org", ""
        )


def test_a_clip_beside_the_trace_is_served(replan: Path) -> None:
    replan.with_suffix(".mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video")
    with running_server(replan) as base:
        view = json.load(urllib.request.urlopen(f"{base}/api/runs/0"))
        assert view["clip"] == "replan.mp4"
        assert urllib.request.urlopen(f"{base}/api/runs/0/clip").read().startswith(b"\x00\x00\x00\x18ftyp")


def test_planned_walks_are_drawn_on_the_map(tmp_path: Path) -> None:
    from humanoid.trace import TraceWriter

    path = tmp_path / "walk.mcap"
    scene = {"frame": "world", "objects": [], "places": [], "robot_start": [-2.5, 0.0, 0.74], "planned_base_path": []}
    with TraceWriter(path, {"command": "make me a coffee", "robot": "reference_humanoid", "scene": "kitchen"}) as t:
        t.write("/scene/map", scene, sim_time=0.0)
        for k, pts in enumerate(([[-2.5, 0.0, 0.0], [-1.2, 0.3, 0.2], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [0.5, -2.0, -1.5]])):
            t.write(
                "/motion/plan",
                {"kind": "base_path", "skill": "navigate", "motion": f"walk->{k}", "status": "exact",
                 "points": pts, "waypoints": pts, "planning_time_s": 0.01},
                sim_time=float(k),
            )
    view = index_run(path)
    assert view["map"]["scene"]["planned_base_path"] == [[-2.5, 0.0], [-1.2, 0.3], [0.0, 0.0], [0.0, 0.0], [0.5, -2.0]]
    assert [m["label"] for m in view["motions"]] == ["navigate/walk->0", "navigate/walk->1"]
