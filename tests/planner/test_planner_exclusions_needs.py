"""Exclusions ("anything but X", "but not X", "except X", "other than X", "not the X") remove X
from the pool of the category; vague needs ("I could eat something", "a pick me up", "low on
energy") become requests. All of it comes from planner/data/grounding.yaml."""

from __future__ import annotations

import pytest

from planner.errors import GroundingError

BRING = {("at", "?object", "user")}
COFFEE = {("contains", "?mug", "coffee"), ("at", "?mug", "user")}


@pytest.mark.parametrize(
    ("command", "facts", "variables"),
    [
        # exclusions, in every form, after a comma too
        ("a soda, anything but pepsi", BRING, {"?object": "soda&!pepsi"}),
        ("chips but not jalapeno", BRING, {"?object": "chips&!jalapeno_chips"}),
        ("crisps, not the rice ones", BRING, {"?object": "chips&!rice_chips"}),
        ("any fruit except the apple", BRING, {"?object": "fruit&!apple"}),
        ("bring me a drink other than water", BRING, {"?object": "drink&!water_bottle"}),
        ("fetch me any soda apart from coke", BRING, {"?object": "soda&!coke"}),
        ("I'd like a drink that is not the tea", BRING, {"?object": "drink&!tea"}),
        (
            "chips except the jalapeno and rice ones",
            BRING,
            {"?object": "chips&!jalapeno_chips&!rice_chips"},
        ),
        # a named thing already excludes the rest: no second, "anything but coke" goal
        ("bring me the pepsi not the coke", {("at", "pepsi", "user")}, {}),
        # vague needs
        ("I could eat something", BRING, {"?object": "food"}),
        ("I feel like eating something", BRING, {"?object": "food"}),
        ("I'm starving, anything but fruit", BRING, {"?object": "food&!fruit"}),
        ("I need a pick me up", COFFEE, {"?mug": "mug"}),
        ("can you get me something to perk me up", COFFEE, {"?mug": "mug"}),
        ("I need some energy", BRING, {"?object": "caffeinated"}),
        ("I'm low on energy, nothing fizzy", BRING, {"?object": "caffeinated&!soda"}),
        # a need and a thing that fits it: that thing
        ("I could eat an apple", {("at", "apple", "user")}, {}),
        ("I need some energy, a red bull please", {("at", "redbull", "user")}, {}),
        ("I could go for a snack", BRING, {"?object": "snack"}),
    ],
)
def test_exclusions_and_needs(grounder, command, facts, variables):
    goal = grounder.ground(command)
    assert set(goal.facts) == facts
    assert dict(goal.variables) == variables


@pytest.mark.parametrize(
    ("command", "facts", "variables"),
    [
        # a need word inside a longer name is that name
        ("an energy drink", BRING, {"?object": "energy_drink"}),
        ("an energy bar please", {("at", "energy_bar", "user")}, {}),
        # a partial name never shadows a full one
        ("put the kettle on the table", {("at", "kettle", "table")}, {}),
        ("kettle chips", {("at", "kettle_chips", "user")}, {}),
        # a thing named beside a need that it does not fit is context
        ("I spilled my drink", BRING, {"?object": "cleaning_tool"}),
        ("I'm not hungry, but bring me a coke", {("at", "coke", "user")}, {}),
    ],
)
def test_what_must_not_change(grounder, command, facts, variables):
    goal = grounder.ground(command)
    assert set(goal.facts) == facts
    assert dict(goal.variables) == variables


def test_a_partial_name_needs_its_category_in_the_sentence(grounder):
    assert grounder.partial_names[("jalapeno",)] == ("jalapeno_chips", "chips")
    assert ("kettle",) not in grounder.partial_names  # "kettle" is the kettle
    with pytest.raises(GroundingError, match="which thing"):
        grounder.ground("bring me the rice")  # no chips talked about: not the rice chips


def test_the_held_out_set_passes():
    from planner.backends.embedded import EmbeddedBackend
    from planner.evaluation import EVAL_PATH, evaluate, load_cases

    cases = load_cases(EVAL_PATH.parent / "heldout.yaml")
    assert len(cases) >= 48
    res = evaluate(EmbeddedBackend(), cases)
    assert res["crashes"] == 0 and res["false_refusals"] == 0, res["failures"]
    assert res["grounding_accuracy_pct"] >= 95, res["failures"]
