"""The terminal timeline and its JSON twin, as `humanoid trace show` prints them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from humanoid.trace import TraceWriter, format_timeline, main_show, read_trace, timeline_json


def test_the_timeline_tells_the_run_in_order(sample_run: Path) -> None:
    text = format_timeline(read_trace(sample_run))
    lines = text.splitlines()

    assert "command  'make me a coffee'" in text
    assert "robot    reference_humanoid   scene kitchen   seed 7" in text
    expected_in_order = [
        'command "make me a coffee" (from cli)',
        "goal    filled(mug_red)",
        "plan v1 (initial): 2 subgoals: navigate(target=counter) -> pick(obj=mug_red)",
        "[0] start   navigate(target=counter)",
        "[0] ok      navigate(target=counter) in 4.00 s",
        "[1] start   pick(obj=mug_red)",
        "motion  pick: 5 waypoints, RRTConnect exact_solution in 0.120 s",
        "SAFETY  torque_limit: elbow torque clamped",
        "[1] FAILED  pick(obj=mug_red): grasp_lost - mug slipped in 2.50 s",
        "REPLAN v2 (grasp_lost on pick(obj=mug_red)): 1 subgoal: pick(obj=mug_red)",
        "WARNING  planner: grasp lost, replanning",
        "end     failed (exit code 1): pick kept failing",
    ]
    positions = [
        next(i for i, line in enumerate(lines) if fragment in line) for fragment in expected_in_order
    ]
    assert positions == sorted(positions)
    assert "subgoals 1 ok, 1 failed | plans 2, replans 1 | safety events 1 | warnings 1" in text
    assert "sim 6.50 s" in text and "real-time factor" in text
    assert "telemetry 4 samples | max tracking error 0.0300 rad | max torque 43.0 N m" in text
    assert "max policy latency 0.45 ms" in text and "replan 0.050 s (1x)" in text
    assert "WARNING: trace ends early" not in text
    # Lines carry sim time and wall time offsets.
    plan_line = lines[positions[2]]
    assert plan_line.split()[0] == "0.000" and plan_line.split()[1].startswith("+")


def test_json_has_the_same_events_and_a_summary(sample_run: Path) -> None:
    data = timeline_json(read_trace(sample_run))
    json.dumps(data)  # serialisable as is
    kinds = [e["kind"] for e in data["events"]]
    assert kinds.count("subgoal_result") == 2 and kinds.count("replan") == 1 and kinds[-1] == "end"
    failed = [e for e in data["events"] if e["kind"] == "subgoal_result" and not e["ok"]]
    assert failed[0]["reason"] == "grasp_lost" and failed[0]["duration_s"] == pytest.approx(2.5)
    assert data["summary"]["subgoals_ok"] == 1 and data["summary"]["replans"] == 1
    assert data["summary"]["outcome"] == "failed" and data["damage"] is None
    assert data["header"]["scene"] == "kitchen"


def test_a_crashed_run_says_so_at_the_end(sample_run: Path, tmp_path: Path) -> None:
    whole = read_trace(sample_run)
    cut_at = whole.messages[6].offset + 10
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(sample_run.read_bytes()[:cut_at])
    text = format_timeline(read_trace(cut))
    assert "(no /run/end: the run did not finish)" in text
    assert text.splitlines()[-1].startswith(f"WARNING: trace ends early at byte {whole.messages[6].offset}: ")
    assert text.rstrip().endswith("the run probably crashed")
    assert timeline_json(read_trace(cut))["damage"]["kind"] == "truncated"


def test_a_malformed_payload_costs_one_line(tmp_path: Path) -> None:
    path = tmp_path / "t.mcap"
    with TraceWriter(path, {"command": "x"}) as trace:
        trace.write("/planner/plan", {"plan_version": 1, "reason": "initial", "subgoals": 5})
        trace.write("/planner/command", {"text": "still shown"})
    text = format_timeline(read_trace(path))
    assert "unreadable /planner/plan message" in text and 'command "still shown"' in text


def test_main_show_prints_text_or_json(sample_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main_show(str(sample_run), as_json=False) == 0
    assert "REPLAN v2" in capsys.readouterr().out
    assert main_show(str(sample_run), as_json=True) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["subgoals_failed"] == 1


def test_main_show_on_a_file_that_is_not_a_trace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a trace\n")
    assert main_show(str(path), as_json=False) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and f"{path} is not an MCAP trace" in captured.err


def test_other_event_shapes_still_make_a_timeline(tmp_path: Path) -> None:
    """Subgoal events named subgoal_start/subgoal_result, a bare SkillResult, extra topics."""
    path = tmp_path / "t.mcap"
    pick = {"skill": "pick", "args": {"obj": "mug"}, "index": 0}
    with TraceWriter(path, {"command": "x"}) as trace:
        trace.write(
            "/planner/plan", {"event": "replan", "reason": "mug moved", "subgoals": [pick]}, sim_time=1.0
        )
        trace.write("/planner/subgoal", {"event": "subgoal_start", "subgoal": pick}, sim_time=1.0)
        trace.write(
            "/planner/subgoal",
            {"event": "subgoal_result", "subgoal": pick, "succeeded": False, "reason": "not_found"},
            sim_time=2.0,
        )
        trace.write("/planner/event", {"event": "asked_operator"}, sim_time=2.0)
        trace.write("/timing", {"name": "startup", "seconds": 1.5})
    text = format_timeline(read_trace(path))
    assert "REPLAN v1 (mug moved)" in text
    assert "[0] start   pick(obj=mug)" in text and "[0] FAILED  pick(obj=mug): not_found in 1.00 s" in text
    assert "/planner/event  asked_operator" in text and "startup 1.500 s" in text
