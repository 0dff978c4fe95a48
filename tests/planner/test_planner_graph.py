"""The LangGraph loop against a symbolic motion layer: execute, fail, re-plan, give up."""

from __future__ import annotations

from planner_harness import SymbolicRunner, fail_always, fail_once

from humanoid.contracts import FailureReason
from planner.graph import PlannerNodes, build_graph, run_planner
from planner.scene_snapshot import scene_observation


class Events:
    def __init__(self):
        self.items: list[tuple[str, dict]] = []

    def __call__(self, kind, payload):
        self.items.append((kind, payload))

    def kinds(self):
        return [k for k, _ in self.items]

    def of(self, kind):
        return [p for k, p in self.items if k == kind]


def _run(command, runner, **kw):
    events = Events()
    return run_planner(command, runner, on_event=events, **kw), events


def test_graph_reads_as_the_planner_loop():
    g = build_graph(PlannerNodes(SymbolicRunner(scene_observation()))).get_graph()
    assert set(g.nodes) >= {"ground", "plan", "dispatch", "observe", "replan", "done", "fail"}
    edges = {(e.source, e.target) for e in g.edges}
    assert {
        ("ground", "plan"),
        ("plan", "dispatch"),
        ("dispatch", "observe"),
        ("observe", "dispatch"),
        ("observe", "replan"),
        ("replan", "plan"),
        ("observe", "done"),
    } <= edges


def test_coffee_end_to_end(kitchen_obs):
    runner = SymbolicRunner(kitchen_obs)
    out, events = _run("make me a coffee", runner)
    assert out.success, out.message
    assert len(out.plans) == 1 and out.replans == 0
    assert [r.subgoal.skill for r in out.results] == ["pick", "place", "press", "pick", "place"]
    assert events.kinds()[:3] == ["command", "goal", "plan"]
    assert events.kinds()[-1] == "done"
    assert events.kinds().count("subgoal_start") == 5 == events.kinds().count("subgoal_result")
    plan = events.of("plan")[0]
    assert plan["plan_version"] == 1 and plan["reason"] == "initial plan" and len(plan["subgoals"]) == 5
    assert out.goal is not None and out.goal.intent == "make_coffee"


def test_kettle_route_end_to_end_when_the_machine_is_off():
    runner = SymbolicRunner(scene_observation(attrs={"coffee_machine": {"powered": False}}))
    out, _ = _run("I'd like a coffee please", runner)
    assert out.success, out.message
    assert ("press", {"target": "kettle"}) in [(s.skill, s.args) for s in runner.calls]


def test_unreachable_mug_replans_with_the_other_one(kitchen_obs):
    runner = SymbolicRunner(kitchen_obs, fail=fail_always("pick(obj=mug_blue)", FailureReason.UNREACHABLE))
    out, events = _run("make me a coffee", runner)
    assert out.success, out.message
    assert [p.version for p in out.plans] == [1, 2]
    assert "pick(obj=mug_blue) failed (unreachable)" in out.plans[1].reason
    assert out.plans[1].binding == {"?mug": "mug_red"}
    replan = events.of("replan")[0]
    assert replan["plan_version"] == 2 and replan["failure_reason"] == "unreachable"
    assert replan["failed_subgoal"]["args"] == {"obj": "mug_blue"}


def test_machine_failing_at_run_time_switches_to_the_kettle(kitchen_obs):
    runner = SymbolicRunner(
        kitchen_obs, fail=fail_always("press(target=coffee_machine)", FailureReason.APPLIANCE_UNAVAILABLE)
    )
    out, _ = _run("make me a coffee", runner)
    assert out.success, out.message
    assert len(out.plans) == 2
    assert any(s.args == {"target": "kettle"} for s in out.plans[1].subgoals)
    assert not any(s.args.get("target") == "coffee_machine" for s in out.plans[1].subgoals)


def test_grasp_lost_once_is_retried_from_the_observed_state(kitchen_obs):
    runner = SymbolicRunner(
        kitchen_obs, fail=fail_once("place(obj=mug_blue, target=user)", FailureReason.GRASP_LOST)
    )
    out, _ = _run("make me a coffee", runner)
    assert out.success, out.message
    assert [s.skill for s in out.plans[1].subgoals] == ["place"]  # still holding the full mug


def test_believed_hot_kettle_is_not_pressed_again():
    obs = scene_observation(remove=("coffee_machine",))
    runner = SymbolicRunner(
        obs, fail=fail_once("pour(obj=kettle, target=mug_blue)", FailureReason.TIMEOUT), report_hot=False
    )
    out, _ = _run("make me a coffee", runner)
    assert out.success, out.message
    assert [s.describe() for s in runner.calls].count("press(target=kettle)") == 1


def test_re_planning_is_bounded(kitchen_obs):
    runner = SymbolicRunner(kitchen_obs, fail=fail_always("pick(obj=mug_blue)", FailureReason.GRASP_FAILED))
    out, events = _run("make me a coffee", runner, max_replans=2)
    assert not out.success
    assert len(out.plans) == 3 and out.replans == 2
    assert "gave up after 2 re-plans" in out.message and "grasp_failed" in out.message
    assert events.kinds()[-1] == "failed"


def test_safety_stop_is_not_second_guessed(kitchen_obs):
    runner = SymbolicRunner(kitchen_obs, fail=fail_always("pick(obj=mug_blue)", FailureReason.SAFETY_STOP))
    out, events = _run("make me a coffee", runner)
    assert not out.success and out.replans == 0 and len(runner.calls) == 1
    assert "safety_stop" in out.message


def test_success_claimed_but_not_observed_replans(kitchen_obs):
    lies = {"n": 0}

    def lie(sg):
        lies["n"] += 1
        return sg.skill == "pick" and lies["n"] == 1

    out, _ = _run("make me a coffee", SymbolicRunner(kitchen_obs, lie=lie))
    assert out.success, out.message
    assert "holding(mug_blue) is not observed" in out.plans[1].reason


def test_grounding_failure_ends_before_anything_moves(kitchen_obs):
    runner = SymbolicRunner(kitchen_obs)
    out, events = _run("make me a pizza", runner)
    assert not out.success and "pizza" in out.message
    assert runner.calls == [] and runner.observe_calls == 0
    assert events.kinds() == ["command", "failed"]


class NoWalkingRunner(SymbolicRunner):
    """A motion layer without a `navigate` skill (the executor before walking landed)."""

    known_skills = ("close", "hand_over", "open", "pick", "place", "pour", "press")


def test_no_plan_is_reported(kitchen_obs):
    out, events = _run("bring me the coke", NoWalkingRunner(kitchen_obs))
    assert not out.success and "out of reach" in out.message and "walking is not supported yet" in out.message
    assert events.kinds() == ["command", "goal", "failed"]


def test_far_things_are_fetched_by_walking(kitchen_obs):
    runner = SymbolicRunner(kitchen_obs)
    out, _ = _run("bring me the coke", runner)
    assert out.success, out.message
    assert [c.describe() for c in runner.calls] == [
        "navigate(place=far_counter)",
        "pick(obj=coke)",
        "navigate(place=close_counter)",  # the user is served at the coffee corner until walking is proven
        "place(obj=coke, target=user)",
    ]


def test_without_navigate_the_coffee_at_hand_is_still_made(kitchen_obs):
    runner = NoWalkingRunner(kitchen_obs)
    out, _ = _run("make me a coffee", runner)
    assert out.success, out.message
    assert "navigate" not in [c.skill for c in runner.calls]


def test_goal_already_true_is_done_without_moving(kitchen_obs):
    runner = SymbolicRunner(kitchen_obs)
    out, _ = _run("put the red mug on the counter", runner)
    assert out.success and runner.calls == [] and out.plans[0].subgoals == []


def test_nodes_work_alone(kitchen_obs):
    nodes = PlannerNodes(SymbolicRunner(kitchen_obs))
    update = nodes.ground({"command": "bring me the red mug"})
    assert update["goal"].facts == (("at", "mug_red", "user"),)
    planned = nodes.plan({"goal": update["goal"]})
    assert [s.skill for s in planned["plan"]] == ["pick", "place"]
    assert nodes.after_plan(planned) == "dispatch"


def test_a_broken_event_sink_does_not_stop_the_robot(kitchen_obs):
    def sink(kind, payload):
        raise RuntimeError("disk full")

    assert run_planner("make me a coffee", SymbolicRunner(kitchen_obs), on_event=sink).success
