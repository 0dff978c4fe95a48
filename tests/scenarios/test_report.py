"""The table and JUnit say what failed and where its trace is, and never hide a known failure."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from scenarios.predicates import Check
from scenarios.report import junit, table
from scenarios.runner import ScenarioSummary
from scenarios.scenario import parse_scenario
from scenarios.verdict import CaseResult


def _summary(yaml_text: str, *results: CaseResult) -> ScenarioSummary:
    sc = parse_scenario(yaml_text, "x.yaml")
    return ScenarioSummary(sc.id, "x.yaml", sc, list(results))


def _failed(sid: str, infra: bool = False) -> CaseResult:
    check = Check("all_of", "at(mug_blue, user)", "holds", "false; seen: at(mug_blue, close_counter)", False)
    return CaseResult(
        sid,
        0,
        "error" if infra else "failed",
        False,
        infra,
        "why",
        10.0,
        5.0,
        0,
        [check],
        f"/runs/{sid}.mcap",
    )


def test_failure_error_and_known_failure_in_junit_and_table(tmp_path):
    summaries = [
        _summary("id: task\ncommand: c\n", _failed("task")),
        _summary("id: infra\ncommand: c\n", _failed("infra", infra=True)),
        _summary(
            "id: known\ncommand: c\nknown_failure: kettle out of reach\nacceptance: {min_success_rate: 0}\n",
            _failed("known"),
        ),
        _summary("id: ok\ncommand: c\n", CaseResult("ok", 0, "success", True, trace="/runs/ok.mcap")),
    ]
    text = table(summaries)
    assert "all_of at(mug_blue, user): expected holds, got false" in text and "/runs/task.mcap" in text
    assert "KNOWN FAILURE: kettle out of reach" in text and "2/4 scenarios accepted" in text
    junit(summaries, tmp_path / "j.xml")
    suites = {s.get("name"): s for s in ET.parse(tmp_path / "j.xml").getroot().iter("testsuite")}
    failure = suites["task"].find("testcase/failure")
    assert failure is not None and "actual false; seen" in failure.text
    assert suites["infra"].find("testcase/error") is not None
    known = suites["known"].find("testcase/skipped")
    assert known is not None and known.get("message").startswith("KNOWN FAILURE: kettle out of reach")
    assert suites["ok"].find("testcase/failure") is None and suites["ok"].get("tests") == "1"
