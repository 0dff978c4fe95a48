"""Grounding: sentences (paraphrases, typos) to goals over the kitchen; refusals that help."""

from __future__ import annotations

import pytest

from planner.errors import GroundingError

COFFEE = (("contains", "?mug", "coffee"), ("at", "?mug", "user"))

PARAPHRASES = [
    ("make me a coffee", COFFEE),
    ("make me a cofee", COFFEE),
    ("Make me a COFFEE!", COFFEE),
    ("could you brew me a cup of coffee", COFFEE),
    ("I'd like a coffee please", COFFEE),
    ("coffee please", COFFEE),
    ("a cup of joe, please", COFFEE),
    ("I need some caffeine", COFFEE),
    ("can you get me an expresso", COFFEE),
    ("I could really use something to wake me up", COFFEE),
    ("make me a coffee and put it on the table", (("contains", "?mug", "coffee"), ("at", "?mug", "table"))),
    ("can I have an espresso in the red cup", (("contains", "mug_red", "coffee"), ("at", "mug_red", "user"))),
    ("bring me the coke", (("at", "coke", "user"),)),
    ("brign me the cokee", (("at", "coke", "user"),)),
    ("could you fetch me a coca cola", (("at", "coke", "user"),)),
    ("hand me the blue mug", (("handed", "mug_blue"),)),
    ("put the red mug in the coffee machine", (("at", "mug_red", "coffee_machine"),)),
    ("place the red mug into the coffe maker", (("at", "mug_red", "coffee_machine"),)),
    ("throw away the apple", (("at", "apple", "trash_can"),)),
    ("thow away the aple", (("at", "apple", "trash_can"),)),
    ("get rid of the sponge please", (("at", "sponge", "trash_can"),)),
    ("put the orange in the bin", (("at", "orange", "trash_can"),)),
    ("open the cupboard", (("open", "cupboard"),)),
    ("shut the drawer", (("closed", "drawer"),)),
]


@pytest.mark.parametrize(("command", "facts"), PARAPHRASES)
def test_paraphrases_and_typos_ground_to_the_same_goal(grounder, command, facts):
    assert grounder.ground(command).facts == facts


def test_any_mug_is_a_typed_variable(grounder):
    goal = grounder.ground("make me a coffee")
    assert goal.intent == "make_coffee"
    assert dict(goal.variables) == {"?mug": "mug"}


def test_a_category_becomes_a_variable(grounder):
    goal = grounder.ground("bring me a soda")
    assert goal.facts == (("at", "?object", "user"),)
    assert dict(goal.variables) == {"?object": "soda"}


def test_corrections_are_reported(grounder):
    assert "read 'cofee' as 'coffee'" in grounder.ground("make me a cofee").notes


def test_embedding_only_when_no_word_decides(grounder):
    assert "from the words" in grounder.ground("make me a coffee").notes[-1]
    assert "resemblance" in grounder.ground("something to keep me awake").notes[-1]
    assert "stated need" in grounder.ground("I could really use something to wake me up").notes[-1]


@pytest.mark.parametrize(
    ("command", "named"),
    [
        ("make me a pizza", "'pizza'"),
        ("bring me the banana", "'banana'"),
        ("bring me the coke and a pizza", "'pizza'"),
        ("dance", "'dance'"),
    ],
)
def test_unknown_things_are_refused_with_what_the_robot_can_do(grounder, command, named):
    with pytest.raises(GroundingError) as e:
        grounder.ground(command)
    msg = str(e.value)
    assert named in msg
    assert "I can:" in msg and "make me a coffee" in msg


def test_an_impossible_task_naming_a_known_thing_is_refused(grounder):
    with pytest.raises(GroundingError, match="tea does not fit"):
        grounder.ground("make me a cup of tea")


def test_missing_object_lists_the_known_ones(grounder):
    with pytest.raises(GroundingError, match="which thing.*I know: 7up, apple"):
        grounder.ground("bring me")


@pytest.mark.parametrize(
    ("command", "match"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("coffee " * 200, "at most 300"),
        (b"\xff\xfe\x00\x81binary", "binary"),
        ("make me a \x00coffee", "control or binary"),
        (42, "must be text"),
        ("?!,.", "no words"),
    ],
)
def test_malformed_commands_get_a_clear_error(grounder, command, match):
    with pytest.raises(GroundingError, match=match):
        grounder.ground(command)


def test_utf8_bytes_are_accepted(grounder):
    assert grounder.ground(b"bring me the coke").facts == (("at", "coke", "user"),)


def test_intents_aliases_and_examples_are_data(grounder):
    from planner.grounding import DATA_PATH

    assert DATA_PATH.suffix == ".yaml"
    assert {i.name for i in grounder.intents} >= {"make_coffee", "bring", "put", "throw_away", "hand_over"}
