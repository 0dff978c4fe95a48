"""Scenario files: scene + robot + command + seed + world changes, validated at the edge.

This is the subset the run command needs now; the regression-suite issue extends the same
schema (randomisation, timed perturbations, predicates, acceptance).
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

LIBRARY_DIR = Path(__file__).resolve().parent / "library"


class ScenarioError(ValueError):
    """A scenario that does not exist or does not validate; the message names file and field."""


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    description: str = ""
    scene: str = "kitchen"
    robot: str = "reference_humanoid"
    command: str | None = None
    seed: int = 0
    remove: list[str] = Field(default_factory=list, description="scene objects absent in this scenario")
    switched_off: list[str] = Field(default_factory=list, description="appliances switched off")
    simulator_dies_at_s: float | None = Field(None, description="fault injection: the simulator process exits at this sim time")
    sim_time_limit_s: float = 120.0
    expect_replan: bool = False


def list_scenarios() -> list[str]:
    return sorted(p.stem for p in LIBRARY_DIR.glob("*.yaml"))


def load_scenario(name_or_path: str) -> Scenario:
    p = Path(name_or_path)
    if not p.is_file():
        p = LIBRARY_DIR / f"{name_or_path}.yaml"
    if not p.is_file():
        raise ScenarioError(f"unknown scenario '{name_or_path}'. Known scenarios: {', '.join(list_scenarios())}")
    try:
        raw = yaml.safe_load(p.read_text())
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{p}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ScenarioError(f"{p}: expected a mapping of scenario fields")
    try:
        return Scenario(**raw)
    except ValidationError as exc:
        problems = "; ".join(f"field '{'.'.join(str(x) for x in e['loc'])}': {e['msg']}" for e in exc.errors())
        raise ScenarioError(f"{p}: {problems}") from None
