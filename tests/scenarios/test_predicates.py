"""Predicates on the final world: variables bind jointly, failures say expected and actual."""

from __future__ import annotations

from scenarios.predicates import judge_world, parse_world_predicate

FACTS = frozenset(
    {
        ("contains", "mug_blue", "coffee"),
        ("at", "mug_blue", "user"),
        ("at", "mug_red", "close_counter"),
        ("empty", "mug_red"),
    }
)


def test_variables_bind_jointly():
    checks = judge_world("all_of", ["contains(?mug, coffee)", "at(?mug, user)"], FACTS)
    assert all(c.ok for c in checks)
    # the red mug is empty, so no single mug has coffee and is at the counter
    checks = judge_world("all_of", ["contains(?mug, coffee)", "at(?mug, close_counter)"], FACTS)
    assert not all(c.ok for c in checks)


def test_a_failure_reports_what_was_seen():
    [check] = judge_world("all_of", ["at(mug_red, user)"], FACTS)
    assert not check.ok and check.expected == "holds"
    assert "at(mug_red, close_counter)" in check.actual


def test_negation_and_never():
    assert judge_world("all_of", ["not at(mug_red, user)"], FACTS)[0].ok
    assert not judge_world("never", ["at(mug_blue, user)"], FACTS)[0].ok


def test_no_final_world_fails_every_predicate():
    [check] = judge_world("all_of", ["at(mug_blue, user)"], None)
    assert not check.ok and "no final world" in check.actual


def test_parse():
    p = parse_world_predicate("not contains(?mug, coffee)")
    assert p.negated and p.fact == ("contains", "?mug", "coffee")
