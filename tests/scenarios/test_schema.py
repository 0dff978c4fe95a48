"""Scenario files are validated at the edge: every library file loads, and a bad one says where."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.runner import discover, load_all
from scenarios.scenario import LIBRARY_DIR, ScenarioError, load_scenario, parse_scenario


def test_every_library_scenario_validates():
    summaries = load_all(discover([str(LIBRARY_DIR)]))
    assert len(summaries) >= 20
    assert [s.id for s in summaries if s.invalid] == []
    for s in summaries:
        assert s.scenario is not None and s.scenario.id == Path(s.path).stem


def test_the_old_fields_still_work():
    sc = load_scenario("simulator_dies")
    assert sc.simulator_dies_at_s == 2.0 and sc.seed_list == [0]
    assert load_scenario("coffee_machine_off").switched_off == ["coffee_machine"]


def test_a_scenario_may_start_the_robot_away():
    from scenarios.injection import sim_args

    sc = load_scenario("throw_away_walking")
    assert sc.start == "robot_start_away" and sim_args(sc, 0)[:2] == ["--start", "robot_start_away"]
    assert "--start" not in sim_args(load_scenario("kitchen_default"), 0)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("description: no id\ncommand: make me a coffee\n", "bad.yaml:1: field 'id': Field required"),
        ("id: x\ncommand: make me a coffee\nseeds: [0, one]\n", "bad.yaml:3: field 'seeds.1'"),
        (
            "id: x\ncommand: make me a coffee\nremove: [mug_gren]\n",
            "bad.yaml:3: field 'remove.0': unknown object 'mug_gren'",
        ),
        (
            "id: x\ncommand: c\nperturbations:\n  - kind: teleport\n    at_s: 1\n",
            "bad.yaml:4: field 'perturbations.0.kind': unknown perturbation 'teleport'",
        ),
        (
            "id: x\ncommand: c\nperturbations:\n  - kind: push\n    at_s: 1\n    params: {body: robto}\n",
            "bad.yaml:6: field 'perturbations.0.params.body': unknown object 'robto'",
        ),
        ("id: x\ncommand: [make me\n", "bad.yaml:3: not valid YAML"),
        ("id: x\ncommand: c\nsuccess:\n  never: [exploded]\n", "unknown event 'exploded'"),
        ("id: x\ncommand: c\nacceptance: {min_success_rate: 0}\n", "tag the scenario known_failure"),
        (
            "id: x\ncommand: c\nstart: robot_start_far\n",
            "bad.yaml:3: field 'start': scene 'kitchen' has no start site 'robot_start_far'",
        ),
    ],
)
def test_a_malformed_scenario_names_file_line_and_field(text, where):
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(text, "bad.yaml")
    assert where in str(exc.value)


def test_a_malformed_file_fails_alone(tmp_path):
    (tmp_path / "good.yaml").write_text("id: good\ncommand: make me a coffee\n")
    (tmp_path / "bad.yaml").write_text("id: bad\ncommand: make me a coffee\nseeds: zero\n")
    summaries = {s.id: s for s in load_all(discover([str(tmp_path)]))}
    assert summaries["good"].invalid is None
    assert "bad.yaml:3: field 'seeds'" in summaries["bad"].invalid
    assert not summaries["bad"].accepted and summaries["bad"].status == "INVALID"


def test_a_timed_command_list_sets_the_first_command():
    sc = parse_scenario(
        "id: x\ncommands:\n  - {text: make me a coffee}\n  - {at_s: 60, text: hand me the red mug}\n",
        "x.yaml",
    )
    assert sc.command == "make me a coffee"
    assert [c.at_s for c in sc.command_list] == [0.0, 60.0]
