"""The command-line contract: exit codes and messages a person can act on."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from humanoid.cli import main


def test_plan_json_names_skills_and_ids(capsys):
    assert main(["plan", "make me a coffee", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    skills = [sg["skill"] for sg in out["subgoals"]]
    assert "press" in skills and skills[-1] in ("place", "hand_over")
    assert all(isinstance(sg["args"], dict) for sg in out["subgoals"])
    assert any("coffee_machine" in sg["args"].values() for sg in out["subgoals"])


def test_plan_without_machine_walks_to_the_kettle(capsys):
    # the kettle stands on the side counter, its own station: the plan walks there for it
    assert main(["plan", "make me a coffee", "--scenario", "no_coffee_machine", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    steps = [f"{s['skill']}({','.join(str(v) for v in s['args'].values())})" for s in plan["subgoals"]]
    assert "navigate(side_counter)" in steps and steps.index("navigate(side_counter)") < steps.index("pick(kettle)")


def test_impossible_command_exits_2_and_says_what_it_can_do(capsys):
    assert main(["run", "make me a pizza"]) == 2
    err = capsys.readouterr().err
    assert "pizza" in err and "coffee" in err


def test_unknown_scenario_exits_2_and_lists_known_ones(capsys):
    assert main(["run", "make me a coffee", "--scenario", "moon_base"]) == 2
    err = capsys.readouterr().err
    assert "unknown scenario 'moon_base'" in err and "kitchen_default" in err


def test_malformed_scenario_file_names_the_field(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\nseed: many\nteleport: true\n")
    assert main(["plan", "make me a coffee", "--scenario", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "seed" in err and "teleport" in err


def test_unknown_robot_spec_exits_2(tmp_path, capsys):
    sc = tmp_path / "sc.yaml"
    sc.write_text("id: sc\nrobot: robby_the_robot\ncommand: make me a coffee\n")
    assert main(["plan", "--scenario", str(sc)]) == 2
    assert "unknown robot spec 'robby_the_robot'" in capsys.readouterr().err


def test_trace_show_on_a_non_trace_exits_2(tmp_path, capsys):
    f = tmp_path / "notes.txt"
    f.write_text("hello")
    assert main(["trace", "show", str(f)]) == 2
    assert "not an MCAP trace" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["sim", "--help"]])
def test_sim_help_runs(argv):
    r = subprocess.run([sys.executable, "-m", "humanoid.cli", *argv], capture_output=True, text=True, env=dict(os.environ), timeout=60)
    assert r.returncode == 0 and "--realtime" in r.stdout


def test_tampered_policy_file_refuses_to_run(tmp_path, capsys):
    import shutil

    from humanoid.robot_spec import ROBOTS_DIR

    robot = tmp_path / "tampered_robot"
    shutil.copytree(ROBOTS_DIR / "reference_humanoid", robot)
    from humanoid.robot_spec import load_robot_spec

    onnx = load_robot_spec(robot).policies["stand"].path  # the file the manifest pins, whichever it is
    blob = bytearray(onnx.read_bytes())
    blob[-10] ^= 0xFF  # one flipped byte
    onnx.write_bytes(bytes(blob))
    sc = tmp_path / "sc.yaml"
    sc.write_text(f"id: sc\nrobot: {robot}\ncommand: make me a coffee\n")
    assert main(["run", "--scenario", str(sc)]) == 2
    err = capsys.readouterr().err
    assert "refusing to run" in err and "sha256" in err and "manifest expects" in err


@pytest.mark.parametrize(
    ("command", "expected"),
    [("bring me the unicorn", "I don't know 'unicorn'"), ("", "the command is empty")],
)
def test_unknown_object_or_empty_command_exits_2_with_what_it_can_do(command, expected, capsys):
    assert main(["plan", command]) == 2
    err = capsys.readouterr().err
    assert expected in err and "make me a coffee" in err
