"""The domain binding (planner/domain/<name>.yaml) as a typed object, validated when loaded."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DOMAIN_DIR = Path(__file__).resolve().parent / "domain"
SKILLS = ("navigate", "pick", "place", "press", "open", "close", "pour", "hand_over")


@dataclass(frozen=True)
class ActionBinding:
    """How one PDDL action becomes a skill call: the skill and its arguments' parameter positions."""

    action: str
    skill: str
    args: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class DomainConfig:
    name: str
    pddl_path: Path
    actions: dict[str, ActionBinding]
    time_budgets_s: dict[str, float]
    observable: frozenset[str]
    believed: frozenset[str]
    station_radius_m: float
    station_yaw_tolerance_rad: float
    serving_places: tuple[str, ...]
    roles: dict[str, tuple[str, ...]]
    hands: tuple[str, ...]
    contents: tuple[str, ...]
    tidy_hands: bool

    def actions_for_skill(self, skill: str) -> list[ActionBinding]:
        return [b for b in self.actions.values() if b.skill == skill]


@lru_cache(maxsize=4)
def load_domain_config(name: str = "kitchen") -> DomainConfig:
    path = DOMAIN_DIR / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in DOMAIN_DIR.glob("*.yaml"))
        raise FileNotFoundError(f"no planning domain '{name}' ({path} missing); known domains: {known}")
    raw: dict[str, Any] = yaml.safe_load(path.read_text())
    actions = {}
    for action, spec in raw["actions"].items():
        if spec["skill"] not in SKILLS:
            raise ValueError(
                f"{path}: action '{action}' maps to unknown skill '{spec['skill']}'; skills are {SKILLS}"
            )
        actions[action] = ActionBinding(
            action=action, skill=spec["skill"], args=tuple((k, int(v)) for k, v in spec["args"].items())
        )
    return DomainConfig(
        name=name,
        pddl_path=path.parent / raw["domain"],
        actions=actions,
        time_budgets_s={k: float(v) for k, v in raw.get("time_budgets_s", {}).items()},
        observable=frozenset(raw["observable"]),
        believed=frozenset(raw.get("believed", ())),
        station_radius_m=float(raw.get("station_radius_m", 0.5)),
        station_yaw_tolerance_rad=float(raw.get("station_yaw_tolerance_rad", 0.5)),
        serving_places=tuple(raw.get("serving_places", ())),
        roles={k: tuple(v) for k, v in raw.get("roles", {}).items()},
        hands=tuple(raw.get("hands", ("left", "right"))),
        contents=tuple(raw.get("contents", ())),
        tidy_hands=bool(raw.get("tidy_hands", True)),
    )
