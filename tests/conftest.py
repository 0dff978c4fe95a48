"""Shared fixtures: the reference robot and the kitchen, built once per test session."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MUJOCO_GL", "egl")


@pytest.fixture(scope="session")
def spec():
    from humanoid.robot_spec import load_robot_spec

    return load_robot_spec()


@pytest.fixture(scope="session")
def kitchen(spec):
    """The kitchen with the robot at the coffee corner and the user served on its counter (the
    layout with walking not promoted): the arm skills', bridge's and control's tests were written
    for it. Tests of walking and of the product's default build their own world."""
    from scenarios.world import build_world

    return build_world("kitchen", spec, start="robot_start", walking_ready=False)
