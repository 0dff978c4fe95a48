"""Fixtures for the planner's tests: the kitchen as authored, observed without a simulator."""

from __future__ import annotations

import pytest

from planner.scene_snapshot import scene_observation


@pytest.fixture(autouse=True)
def corner_layout(monkeypatch):
    """The planner's tests were written for the kitchen with walking not promoted: the robot at
    the coffee corner, the user served on its counter. They pin that layout here, so each keeps
    testing what it was written for; `test_planner_walking.py` plans in the room as authored
    (it passes `walking_ready=True`), and the product's default is tested end to end."""
    import scenarios.world as world

    monkeypatch.setattr(world, "WALKING_READY", False)
    monkeypatch.setattr(world, "DEFAULT_START", "robot_start")


@pytest.fixture(scope="session")
def grounder():
    from planner.grounding import default_grounder

    return default_grounder()


@pytest.fixture(scope="session")
def domain():
    from planner.symbolic import default_domain

    return default_domain()


@pytest.fixture
def kitchen_obs():
    return scene_observation("kitchen")


@pytest.fixture
def kitchen_facts(kitchen_obs):
    from planner.world_model import facts_from_observation

    return facts_from_observation(kitchen_obs)
