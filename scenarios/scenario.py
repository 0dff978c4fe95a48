"""Scenario files: scene + robot + command(s) + seeds + perturbations + predicates + acceptance.

A scenario is data (YAML), validated here at the edge into typed objects; an error names the
file, the line and the field. `humanoid run --scenario NAME` runs one seed of it, `humanoid
test` runs the library over all its seeds (scenarios/runner.py). The file format is
documented in docs/scenarios.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bridge.perturbations import RANDOMIZERS, WORLD_EVENTS

LIBRARY_DIR = Path(__file__).resolve().parent / "library"

# Faults that are not world events: the transport between control and sim, the planner backend.
LINK_FAULTS = ("drop_messages", "delay_messages", "corrupt_messages")
PLANNER_FAULTS = ("planner_malformed", "planner_timeout", "planner_hang")
PERTURBATION_KINDS = (*sorted(WORLD_EVENTS), *LINK_FAULTS, *PLANNER_FAULTS)
PLANNER_EVENTS = ("subgoal_start", "subgoal_result", "plan", "replan")
Outcome = Literal["success", "failed", "refused", "error"]


class ScenarioError(ValueError):
    """A scenario that does not exist or does not validate; the message names file and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TimedCommand(_Strict):
    """One command of a timed list: it starts when the previous one ended, not before `at_s`."""

    at_s: float = 0.0
    text: str


class Trigger(_Strict):
    """A planner event that fires a perturbation: e.g. the start of `pick` on `mug_blue`."""

    event: Literal["subgoal_start", "subgoal_result", "plan", "replan"]
    skill: str | None = None
    args: dict[str, str] = Field(default_factory=dict, description="subgoal args that must match")
    after_s: float = Field(0.0, ge=0.0, description="sim seconds after the event")
    once: bool = True


class Perturbation(_Strict):
    """One named, parameterised perturbation, due at a sim time (`at_s`) or on a planner event (`trigger`)."""

    kind: str
    at_s: float | None = Field(None, ge=0.0)
    trigger: Trigger | None = None
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("kind")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in PERTURBATION_KINDS:
            raise ValueError(f"unknown perturbation '{v}'; known: {', '.join(PERTURBATION_KINDS)}")
        return v

    @model_validator(mode="after")
    def _when(self) -> Perturbation:
        if self.kind in WORLD_EVENTS and (self.at_s is None) == (self.trigger is None):
            raise ValueError(f"perturbation '{self.kind}' needs exactly one of 'at_s' or 'trigger'")
        return self


class Randomization(_Strict):
    """Per-seed startup randomisation (bridge/perturbations.py RANDOMIZERS)."""

    object_poses: dict[str, float] | None = Field(None, description="object id -> xy jitter radius (m)")
    friction: tuple[float, float] | None = Field(None, description="scale range for object friction")
    mass: tuple[float, float] | None = Field(None, description="scale range for object masses")

    def terms(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        if self.object_poses:
            out["object_poses"] = {"objects": dict(self.object_poses)}
        if self.friction:
            out["friction"] = {"scale": list(self.friction)}
        if self.mass:
            out["mass"] = {"scale": list(self.mass)}
        assert set(out) <= set(RANDOMIZERS)
        return out


class Success(_Strict):
    """Predicates on the final world (docs/scenarios.md): all must hold, none may happen."""

    all_of: list[str] = Field(default_factory=list)
    hold_for_s: float = Field(
        0.0, ge=0.0, description="all_of must still hold after this long standing still"
    )
    never: list[str] = Field(default_factory=lambda: ["fallen", "safety_stop"])
    optional: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _judgeable(self) -> Success:
        from scenarios.predicates import validate_predicate

        for group in ("all_of", "never", "optional"):
            for text in getattr(self, group):
                validate_predicate(text, group)
        return self


class Expect(_Strict):
    """The outcome a passing run has; `reason_contains` pins the message of a refusal or error."""

    outcome: Outcome = "success"
    min_replans: int = Field(0, ge=0)
    reason_contains: str | None = None


class Acceptance(_Strict):
    min_success_rate: float = Field(1.0, ge=0.0, le=1.0)


class Artifacts(_Strict):
    trace: bool = True
    video: bool = False


class Scenario(_Strict):
    id: str
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    scene: str = "kitchen"
    robot: str = "reference_humanoid"
    command: str | None = None
    commands: list[TimedCommand] = Field(
        default_factory=list, description="a timed list instead of one command"
    )
    seed: int = 0
    seeds: list[int] | None = None
    start: str | None = Field(
        None, description="the scene site the robot starts at, e.g. robot_start_away (default: the scene's default)"
    )
    remove: list[str] = Field(default_factory=list, description="scene objects absent in this scenario")
    switched_off: list[str] = Field(default_factory=list, description="appliances switched off")
    randomize: Randomization = Field(default_factory=Randomization)
    perturbations: list[Perturbation] = Field(default_factory=list)
    simulator_dies_at_s: float | None = Field(
        None, description="fault injection: the simulator process exits at this sim time"
    )
    # a coffee with walking takes ~130 s of sim time and 40-90 s of wall time on a busy 2-core
    # machine; the limits are there to stop a stuck run, not to time a healthy one
    sim_time_limit_s: float = 300.0
    wall_time_limit_s: float = 300.0
    expect_replan: bool = False
    success: Success = Field(default_factory=Success)
    expect: Expect = Field(default_factory=Expect)
    acceptance: Acceptance = Field(default_factory=Acceptance)
    known_failure: str | None = Field(
        None, description="why this is expected to fail today; shown in the table"
    )
    needs: list[str] = Field(
        default_factory=list, description="capabilities not built yet, e.g. walking: skipped"
    )
    artifacts: Artifacts = Field(default_factory=Artifacts)
    source: str | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if self.command is not None and self.commands:
            raise ValueError("give either 'command' or 'commands', not both")
        if self.command is None and self.commands:
            self.command = self.commands[0].text  # what `humanoid run/plan` check first
        if self.acceptance.min_success_rate == 0.0 and not self.known_failure and not self.needs:
            raise ValueError(
                "acceptance.min_success_rate 0 accepts anything: tag the scenario known_failure with the reason"
            )
        return self

    @property
    def seed_list(self) -> list[int]:
        return list(self.seeds) if self.seeds is not None else [self.seed]

    @property
    def command_list(self) -> list[TimedCommand]:
        return list(self.commands) or ([TimedCommand(text=self.command)] if self.command else [])

    def min_replans(self) -> int:
        return max(self.expect.min_replans, 1 if self.expect_replan else 0)


def list_scenarios(directory: Path = LIBRARY_DIR) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.yaml"))


def scenario_paths(directory: Path = LIBRARY_DIR) -> list[Path]:
    return sorted(directory.glob("**/*.yaml"))


def _line_of(root: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at `loc` (or of its deepest existing parent)."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if getattr(k, "value", None) == str(key)), None)
            if nxt is None:
                break
            line = next(k for k, v in node.value if v is nxt).start_mark.line + 1
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line


def parse_scenario(text: str, path: Path | str) -> Scenario:
    """Validate scenario YAML; a `ScenarioError` names the file, line and field of each problem."""
    try:
        raw = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise ScenarioError(
            f"{path}{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}"
        ) from None
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}:1: expected a mapping of scenario fields, got {type(raw).__name__}")
    try:
        sc = Scenario(**raw)
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            loc = tuple(x for x in e["loc"] if not (isinstance(x, str) and x.startswith("function-")))
            line = _line_of(root, loc)
            field = ".".join(str(x) for x in loc) or "(top level)"
            msg = e["msg"].removeprefix("Value error, ")
            problems.append(f"{path}:{line}: field '{field}': {msg}")
        raise ScenarioError("\n".join(problems)) from None
    unknown = _unknown_names(sc)
    if unknown:
        raise ScenarioError(
            "\n".join(
                f"{path}:{_line_of(root, loc)}: field '{'.'.join(map(str, loc))}': {msg}"
                for loc, msg in unknown
            )
        )
    sc.source = str(path)
    return sc


# Perturbation parameters that name scene things, checked against the scene's catalogue.
_NAMED_PARAMS = ("obj", "appliance", "body")


def _unknown_names(sc: Scenario) -> list[tuple[tuple[Any, ...], str]]:
    """Object, appliance and body names the scene does not have (typos fail here, not mid-run)."""
    from scenarios.world import SCENES_DIR, SceneError, load_catalogue, start_pose

    if not (SCENES_DIR / f"{sc.scene}.xml").is_file():
        return [(("scene",), f"unknown scene '{sc.scene}'")]
    if sc.start is not None:
        try:
            start_pose(sc.scene, sc.start)
        except SceneError as exc:
            return [(("start",), str(exc))]
    known = set(load_catalogue(sc.scene)) | {"robot"}
    hint = "; see scenarios/scenes/" + sc.scene + ".objects.yaml"
    out: list[tuple[tuple[Any, ...], str]] = []
    for field in ("remove", "switched_off"):
        for i, name in enumerate(getattr(sc, field)):
            if name not in known:
                out.append(((field, i), f"unknown object '{name}'{hint}"))
    for name in sc.randomize.object_poses or {}:
        if name not in known:
            out.append((("randomize", "object_poses", name), f"unknown object '{name}'{hint}"))
    for i, p in enumerate(sc.perturbations):
        for key in _NAMED_PARAMS:
            name = p.params.get(key)
            if name is not None and name not in known:
                out.append((("perturbations", i, "params", key), f"unknown object '{name}'{hint}"))
    return out


def load_scenario(name_or_path: str) -> Scenario:
    p = Path(name_or_path)
    if not p.is_file():
        p = LIBRARY_DIR / f"{name_or_path}.yaml"
    if not p.is_file():
        raise ScenarioError(
            f"unknown scenario '{name_or_path}'. Known scenarios: {', '.join(list_scenarios())}"
        )
    return parse_scenario(p.read_text(), p)
