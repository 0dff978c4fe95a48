"""Operator supervision: the graph pauses before each plan and re-plan; approve, edit, reject;
ambiguous commands ask which; a checkpointed run resumes after an interruption."""

from __future__ import annotations

import pytest
from planner_harness import SymbolicRunner, fail_always

from humanoid.contracts import FailureReason
from planner.graph import resume_planner, run_planner, sqlite_checkpointer


class Operator:
    def __init__(self, *answers):
        self.answers = list(answers)
        self.questions: list[dict] = []

    def __call__(self, question):
        self.questions.append(question)
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


APPROVE = {"action": "approve"}


def test_every_plan_and_replan_waits_for_approval(kitchen_obs):
    runner = SymbolicRunner(kitchen_obs, fail=fail_always("pick(obj=mug_blue)", FailureReason.UNREACHABLE))
    op = Operator(APPROVE, APPROVE)
    out = run_planner("make me a coffee", runner, operator=op)
    assert out.success, out.message
    assert [q["kind"] for q in op.questions] == ["plan", "plan"]
    assert op.questions[0]["plan_version"] == 1 and op.questions[1]["plan_version"] == 2
    assert "failed (unreachable)" in op.questions[1]["reason"]
    assert op.questions[0]["subgoals"][0]["skill"] == "pick"


def test_rejected_plan_moves_nothing(kitchen_obs):
    runner = SymbolicRunner(kitchen_obs)
    out = run_planner(
        "bring me the red mug", runner, operator=Operator({"action": "reject", "reason": "not now"})
    )
    assert not out.success and "rejected plan v1: not now" in out.message
    assert runner.calls == []


def test_an_edit_is_validated_before_it_runs(kitchen_obs):
    runner = SymbolicRunner(kitchen_obs)
    edit = {"action": "edit", "subgoals": [{"skill": "place", "args": {"obj": "mug_red", "target": "user"}}]}
    out = run_planner("bring me the red mug", runner, operator=Operator(edit))
    assert not out.success and "edit of plan v1 is invalid" in out.message and runner.calls == []
    good = {
        "action": "edit",
        "subgoals": [
            {"skill": "pick", "args": {"obj": "mug_red"}},
            {"skill": "place", "args": {"obj": "mug_red", "target": "user"}},
        ],
    }
    runner = SymbolicRunner(kitchen_obs)
    out = run_planner("bring me the red mug", runner, operator=Operator(good))
    assert out.success, out.message


def test_an_ambiguous_command_asks_which(kitchen_obs):
    runner = SymbolicRunner(kitchen_obs)
    op = Operator({"choice": "mug_red"}, APPROVE)
    out = run_planner("bring me the mug", runner, operator=op)
    assert out.success, out.message
    assert op.questions[0]["kind"] == "choose" and op.questions[0]["options"] == ["mug_blue", "mug_red"]
    assert out.goal is not None and out.goal.facts == (("at", "mug_red", "user"),)


def test_without_an_operator_an_ambiguous_command_is_refused(kitchen_obs):
    out = run_planner("bring me the mug", SymbolicRunner(kitchen_obs))
    assert not out.success and "which mug" in out.message and "mug_blue, mug_red" in out.message


def test_a_checkpointed_run_resumes_after_an_interruption(kitchen_obs, tmp_path):
    pytest.importorskip("langgraph.checkpoint.sqlite")
    db = str(tmp_path / "runs.sqlite")
    runner = SymbolicRunner(kitchen_obs)
    # the operator's terminal dies while the first plan waits for approval
    with pytest.raises(KeyboardInterrupt):
        run_planner(
            "bring me the red mug",
            runner,
            operator=Operator(KeyboardInterrupt()),
            checkpointer=sqlite_checkpointer(db),
            thread_id="t1",
        )
    assert runner.calls == []
    # a new process opens the same file and answers the pending question
    op = Operator(APPROVE)
    out = resume_planner("t1", runner, sqlite_checkpointer(db), operator=op)
    assert out.success, out.message
    assert op.questions[0]["kind"] == "plan" and [c.skill for c in runner.calls] == ["pick", "place"]


def test_a_missing_requested_mug_is_replaced_by_another_with_the_reason(kitchen_obs):
    from planner.scene_snapshot import scene_observation

    runner = SymbolicRunner(scene_observation(remove=("mug_red",)))
    out = run_planner("make me a coffee in the red mug", runner)
    assert out.success, out.message
    assert "mug_red is not available" in out.plans[0].reason and "another mug" in out.plans[0].reason
    assert out.plans[0].binding == {"?alt": "mug_blue"}


def test_a_requested_mug_that_fails_is_replaced_on_replan(kitchen_obs):
    runner = SymbolicRunner(kitchen_obs, fail=fail_always("pick(obj=mug_red)", FailureReason.NOT_FOUND))
    out = run_planner("make me a coffee in the red mug", runner)
    assert out.success, out.message
    assert [p.version for p in out.plans] == [1, 2]
    assert "failed (not_found)" in out.plans[1].reason and "using another mug" in out.plans[1].reason


def test_a_thing_not_found_where_believed_is_searched_for_in_storage(kitchen_obs):
    """Perception put the instant coffee on the side counter; it is really in the cupboard."""
    from humanoid.contracts import SkillResult
    from planner.graph import PlannerNodes, build_graph

    class Runner(SymbolicRunner):
        def run(self, subgoal):
            if (
                subgoal.describe() == "pick(obj=instant_coffee)"
                and ("at", "instant_coffee", "cupboard") not in self.facts
            ):
                self.calls.append(subgoal)
                return SkillResult(
                    subgoal, False, FailureReason.NOT_FOUND, "nothing there", {"object": "instant_coffee"}
                )
            result = super().run(subgoal)
            if subgoal.describe() == "open(target=cupboard)":  # the search reveals it inside
                self.facts = (self.facts - {("at", "instant_coffee", "side_counter")}) | {
                    ("at", "instant_coffee", "cupboard")
                }
            return result

        def observe(self):
            for o in self.obs.objects:  # the harness does not report doors; perception does
                if "open" in o.attrs:
                    o.attrs["open"] = ("open", o.id) in self.facts
            return super().observe()

    runner = Runner(kitchen_obs)
    nodes = PlannerNodes(runner)
    final = build_graph(nodes).invoke({"command": "bring me the instant coffee", "plans": [], "results": []})
    assert final["status"] == "done", final.get("message")
    reasons = [p.reason for p in final["plans"]]
    assert "instant_coffee not found where believed: searching cupboard" in reasons[1]
    # the cupboard is a station of its own: the search walks there first
    assert [c.describe() for c in runner.calls][:5] == [
        "navigate(place=side_counter)",
        "pick(obj=instant_coffee)",
        "navigate(place=cupboard)",
        "open(target=cupboard)",
        "pick(obj=instant_coffee)",
    ]
