"""Fixtures for the planner's tests: the kitchen as authored, observed without a simulator."""

from __future__ import annotations

import pytest

from planner.scene_snapshot import scene_observation


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
