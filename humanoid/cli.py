"""The `humanoid` command line: run, plan, sim, trace show.

Exit codes: 0 the goal holds in the final simulated world; 1 the task failed (the reason is
printed); 2 bad input (unknown scenario or robot, a command the robot cannot do).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

EXIT_BAD_INPUT = 2


def _initial_observation(scenario):
    """The world as perception reports it before anything moves (no physics stepped)."""
    from bridge.sim_world import SimWorld
    from humanoid.robot_spec import load_robot_spec
    from humanoid.run import _with_robot
    from scenarios.world import build_world

    world = build_world(scenario.scene, load_robot_spec(scenario.robot), remove=tuple(scenario.remove), start=scenario.start)
    sim = SimWorld(world, robot_xy_yaw=world.start)
    for appliance in scenario.switched_off:
        sim.appliances.switch(appliance, False)
    return _with_robot(sim.observe(), sim.state())  # where the robot stands decides what needs walking


def _motion_walks(robot: str) -> bool:
    """Whether the robot can walk: plans walk only then, as in a run (humanoid/run.py `can_walk`)."""
    from humanoid.robot_spec import load_robot_spec
    from humanoid.run import can_walk

    return can_walk(load_robot_spec(robot))


def _load_scenario(name: str | None, command: str | None):
    from scenarios.scenario import load_scenario

    sc = load_scenario(name or "kitchen_default")
    if command is None and sc.command is None:
        raise ValueError(f"scenario '{sc.id}' has no command; give one on the command line")
    return sc


def _default_trace_path(command: str) -> Path:
    slug = re.sub(r"[^a-z0-9]+", "-", command.lower()).strip("-")[:40] or "run"
    return Path("runs") / f"{time.strftime('%Y%m%d-%H%M%S')}-{slug}" / "trace.mcap"


def cmd_plan(args) -> int:
    from planner.cli_support import plan_command

    sc = _load_scenario(args.scenario, args.command)
    command = args.command if args.command is not None else sc.command
    result = plan_command(command, _initial_observation(sc), backend=_planner_backend(args), can_walk=_motion_walks(sc.robot))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"goal: {result.get('goal_text') or result.get('goal')}")
        for i, sg in enumerate(result["subgoals"], 1):
            a = ", ".join(f"{k}={v}" for k, v in sg["args"].items())
            print(f"  {i}. {sg['skill']}({a})")
    return 0


def _planner_backend(args):
    """The backend `--backend` names (planner/backends); None keeps the embedded default."""
    name = getattr(args, "backend", None) or "embedded"
    if name == "embedded":
        return None
    if name == "vllm":
        from planner.backends.vllm import VLLMBackend

        return VLLMBackend(base_url=args.llm_url, model=args.llm_model or "default")
    from planner.backends.transformers_lm import TransformersBackend

    if not args.model_path:
        raise ValueError("--backend transformers needs --model-path FOLDER (a local causal LM)")
    return TransformersBackend(args.model_path)


def cmd_run(args) -> int:
    from humanoid.run import RunOptions, run
    from planner.cli_support import plan_command

    sc = _load_scenario(args.scenario, args.command)
    command = args.command if args.command is not None else sc.command
    # Refuse a command the robot cannot do, or a policy file that is not the promoted one,
    # before any process starts or anything moves (the control process checks again).
    from planner.errors import AmbiguityError

    try:
        plan_command(command, _initial_observation(sc), can_walk=_motion_walks(sc.robot))
    except AmbiguityError:
        if not args.approve:
            raise
        # with --approve the operator is asked which thing during the run
    from control.policy import FrozenPolicy
    from humanoid.robot_spec import load_robot_spec

    spec = load_robot_spec(sc.robot)
    FrozenPolicy.from_spec(spec, "stand")
    if "walk" in spec.policies:
        FrozenPolicy.from_spec(spec, "walk")
    if args.approve:  # every plan and re-plan waits for the operator (planner/supervision.py)
        from planner import supervision

        supervision.install(supervision.TerminalOperator(), args.checkpoint)
    seed = sc.seed if args.seed is None else args.seed
    trace_path = Path(args.trace) if args.trace else _default_trace_path(command)
    opts = RunOptions(
        command=command,
        scenario=sc,
        trace_path=trace_path,
        seed=seed,
        video_path=Path(args.video) if args.video else None,
        quiet=args.quiet,
    )
    return run(opts)


def cmd_sim(rest: list[str]) -> int:
    from bridge.sim_server import main

    return main(rest)


def cmd_trace(args) -> int:
    from humanoid.trace.timeline import main_show

    return main_show(args.path, args.json)


def cmd_trace_serve(args) -> int:
    from humanoid.viewer.server import serve

    return serve(args.path, host=args.host, port=args.port, open_browser=args.open)


def cmd_test(args) -> int:
    from scenarios.suite_cli import main_test

    return main_test(args)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="humanoid", description="Hierarchical task-execution stack for humanoid robots.")
    sub = p.add_subparsers(dest="cmd", required=True)

    r = sub.add_parser("run", help="run a command end to end in simulation")
    r.add_argument("command", nargs="?", help='e.g. "make me a coffee" (default: the scenario\'s command)')
    r.add_argument("--scenario", help="scenario name (scenarios/library) or path to a scenario file")
    r.add_argument("--trace", help="where to write the MCAP trace (default runs/<time>-<command>/trace.mcap)")
    r.add_argument("--seed", type=int)
    r.add_argument("--video", help="write a short clip rendered headless (needs the 'video' extra)")
    r.add_argument("--quiet", action="store_true")
    r.add_argument("--approve", action="store_true", help="show each plan and re-plan; approve, edit or reject it")
    r.add_argument("--checkpoint", help="with --approve: SQLite file checkpointing the planner (resumable)")
    r.set_defaults(func=cmd_run)

    pl = sub.add_parser("plan", help="print the grounded goal and subgoals without running the sim")
    pl.add_argument("command", nargs="?")
    pl.add_argument("--scenario")
    pl.add_argument("--json", action="store_true")
    pl.add_argument("--backend", choices=["embedded", "vllm", "transformers"], default="embedded")
    pl.add_argument("--llm-url", default="http://127.0.0.1:8000/v1", help="vLLM server (OpenAI API)")
    pl.add_argument("--llm-model", help="model name the vLLM server serves")
    pl.add_argument("--model-path", help="folder of a local causal LM (--backend transformers)")
    pl.set_defaults(func=cmd_plan)

    sub.add_parser("sim", help="serve the simulated robot alone (see `humanoid sim --help`)", add_help=False)

    t = sub.add_parser("trace", help="inspect trace files")
    tsub = t.add_subparsers(dest="trace_cmd", required=True)
    ts = tsub.add_parser("show", help="print a run's timeline")
    ts.add_argument("path")
    ts.add_argument("--json", action="store_true")
    ts.set_defaults(func=cmd_trace)
    tv = tsub.add_parser("serve", help="open runs' traces in a local web viewer (docs/trace-viewer.md)")
    tv.add_argument(
        "path", nargs="?", default="runs", help="a trace, a folder of traces or a scenario report (default: runs)"
    )
    tv.add_argument("--host", default="127.0.0.1", help="where to listen (default 127.0.0.1: this machine only)")
    tv.add_argument("--port", type=int, default=8765)
    tv.add_argument("--open", action="store_true", help="open the page in the default browser")
    tv.set_defaults(func=cmd_trace_serve)

    te = sub.add_parser("test", help="run the scenario regression suite in parallel (docs/scenarios.md)")
    te.add_argument("paths", nargs="*", help="scenario files, folders or names (default: every scenario under scenarios/library)")
    te.add_argument("--workers", type=int, help="parallel runs on this machine (default: the core count)")
    te.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS", help="run as Ray tasks; no ADDRESS starts a local Ray")
    te.add_argument("--junit", help="write JUnit XML here (one testcase per scenario and seed)")
    te.add_argument("--out", help="folder for traces and the report (default runs/suite-<time>)")
    te.add_argument("--video", action="store_true", help="render a short clip per run, headless")
    te.add_argument("--tag", action="append", default=[], help="only scenarios with this tag (repeatable)")
    te.add_argument("--seeds", help="override every scenario's seeds, e.g. 0,1,2")
    te.set_defaults(func=cmd_test)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    # the embedding model loads from the installed package; its loading bars are noise here
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    if argv[:1] == ["sim"]:
        return cmd_sim(argv[1:])
    args = build_parser().parse_args(argv)
    from control.policy import PolicyError
    from humanoid.robot_spec import SpecError
    from planner.errors import GroundingError, PlannerError
    from scenarios.scenario import ScenarioError
    from scenarios.world import SceneError

    try:
        return args.func(args)
    except GroundingError as exc:
        print(f"humanoid: cannot do that: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except PlannerError as exc:
        print(f"humanoid: no plan: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except PolicyError as exc:
        print(f"humanoid: refusing to run: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (ScenarioError, SpecError, SceneError, ValueError) as exc:
        print(f"humanoid: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
