"""`humanoid run`: one command, end to end, through all four layers.

This process runs the planner and the motion layer; the simulator and the control loop are
child processes (DESIGN.md, "Processes and time"). Everything that happens is written to one
MCAP trace as it happens and echoed to the terminal, and the trace is closed with the
outcome even when a child dies or the run is interrupted.
"""

from __future__ import annotations

import dataclasses
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bridge.control_client import ControlClient
from bridge.sim_client import LockstepSimClient
from bridge.transport import BridgeDown
from humanoid.console import Console
from humanoid.launch import Child, ipc_dir, start_child, wait_until
from humanoid.robot_spec import load_robot_spec
from humanoid.trace.scene import write_scene
from humanoid.trace.writer import TraceWriter
from scenarios import injection
from scenarios.scenario import Scenario
from scenarios.world import build_world

EXIT_OK, EXIT_TASK_FAILED = 0, 1  # (2, bad input, is decided before a run starts: humanoid/cli.py)


@dataclass
class RunOptions:
    command: str
    scenario: Scenario
    trace_path: Path
    seed: int
    video_path: Path | None = None
    quiet: bool = False
    extra_meta: dict = field(default_factory=dict)


# Which trace channel each planner/motion event goes to (docs/trace-format.md).
EVENT_TOPICS = {
    "command": "/planner/command",
    "goal": "/planner/goal",
    "plan": "/planner/plan",
    "replan": "/planner/plan",
    "subgoal_start": "/planner/subgoal",
    "subgoal_result": "/planner/subgoal",
    "motion_plan": "/motion/plan",
}


class _TracedControl:
    """The control client, with every result's telemetry and safety events written to the trace."""

    def __init__(self, client: ControlClient, trace: TraceWriter, console: Console) -> None:
        self.client = client
        self.trace = trace
        self.console = console

    def execute(self, req):
        result = self.client.execute(req)
        for sample in result.telemetry:
            self.trace.write("/control/telemetry", {"label": req.label, **sample}, sim_time=sample.get("sim_time"))
        for event in result.safety_events:
            self.trace.write("/safety/event", event, sim_time=event.get("sim_time"))
            self.console.event("safety", event)
        return result

    def observe(self):
        return self.client.observe()

    def state(self):
        return self.client.state()


def can_walk(spec) -> bool:
    """Plans may walk when the motion layer has `navigate`, the robot a walking policy, and a person
    has promoted walking for the product (`scenarios.world.WALKING_READY`): until then a far goal
    is refused as before, while the policy and the skill are measured by the benchmarks."""
    from motion.skills import SKILLS
    from scenarios.world import WALKING_READY

    return WALKING_READY and "navigate" in SKILLS and "walk" in spec.policies


class _SkillRunner:
    """Adapts the motion layer's executor to the planner's `SkillRunner` protocol, and notices
    a dead simulator or control process so the failure names the culprit."""

    def __init__(self, executor, children: list[Child], sim_time_limit_s: float) -> None:
        self.executor = executor
        self.children = children
        self.sim_time_limit_s = sim_time_limit_s
        self.walks = can_walk(executor.ctx.world.robot)

    def _dead_child(self) -> Child | None:
        return next((c for c in self.children if not c.alive()), None)

    def run(self, subgoal):
        from humanoid.contracts import FailureReason, SkillResult

        now = self.executor.ctx.state.sim_time if self.executor.ctx.state else 0.0
        if now > self.sim_time_limit_s:
            return SkillResult(
                subgoal=subgoal,
                succeeded=False,
                reason=FailureReason.TIMEOUT,
                message=f"the scenario's sim time limit of {self.sim_time_limit_s:.0f} s is used up ({now:.1f} s)",
                sim_time_start=now,
                sim_time_end=now,
            )
        result = self.executor.run(subgoal)
        dead = self._dead_child()
        if dead is not None and not result.succeeded:
            result.message = f"the {dead.name} process died (exit code {dead.exit_code()}): {result.message}"
            result.observations["dead_process"] = dead.name
        return result

    @property
    def known_skills(self) -> list[str]:
        """What the robot can do; the planner plans walking only when `navigate` is here (it is
        left out while the robot has no walking policy: its controller would refuse to walk)."""
        return [s for s in self.executor.known_skills if s != "navigate" or self.walks]

    def observe(self):
        from motion.skills.base import SkillFailure

        dead = self._dead_child()
        if dead is not None:  # no need to wait for a time-out from a process known to be gone
            raise RuntimeError(f"the {dead.name} process died (exit code {dead.exit_code()}); the run cannot go on")
        try:
            return _with_robot(self.executor.observe(), self.executor.ctx.state)
        except SkillFailure as exc:
            # Without a world to observe the planner cannot go on: end the run, naming the culprit.
            dead = self._dead_child()
            if dead is not None:
                raise RuntimeError(f"the {dead.name} process died (exit code {dead.exit_code()}): {exc.message}") from None
            raise RuntimeError(f"the robot cannot go on ({exc.reason.value}): {exc.message}") from None


def _with_robot(obs, state):
    """The observation plus the robot's base pose as the entry `robot`, from which the planner
    reads where the robot stands (planner/world_model.py)."""
    from bridge.messages import ObjectObservation
    from planner.world_model import ROBOT_ID

    if state is None or any(o.id == ROBOT_ID for o in obs.objects):
        return obs
    robot = ObjectObservation(
        id=ROBOT_ID, pos=[float(v) for v in state.base_pos], quat=[float(v) for v in state.base_quat], attrs={"kind": "robot"}
    )
    return dataclasses.replace(obs, objects=[*obs.objects, robot])  # the motion layer keeps its own


def _sigterm_as_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt  # so the `finally` below stops the children and closes the trace


def run(opts: RunOptions, out: TextIO = sys.stdout) -> int:
    from motion.executor import SkillExecutor

    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)

    sc = opts.scenario
    console = Console(out, quiet=opts.quiet)
    spec = load_robot_spec(sc.robot)
    world = build_world(sc.scene, spec, remove=tuple(sc.remove), start=sc.start)
    meta = {
        "command": opts.command,
        "scenario": sc.model_dump(),
        "robot": spec.name,
        "scene": sc.scene,
        "seed": opts.seed,
        "trace_path": str(opts.trace_path),
        **opts.extra_meta,
    }
    opts.trace_path.parent.mkdir(parents=True, exist_ok=True)
    trace = TraceWriter(opts.trace_path, meta)
    wall_start = time.monotonic()
    children: list[Child] = []
    outcome = {"exit_code": EXIT_TASK_FAILED, "success": False, "reason": "run did not finish"}
    control = None
    ipc = ipc_dir()
    sim_ep = f"ipc://{ipc}/sim"
    try:
        ctl_ep = f"ipc://{ipc}/control"
        sim_args = ["--scene", sc.scene, "--robot", sc.robot, "--seed", str(opts.seed), "--endpoint", sim_ep]
        for oid in sc.remove:
            sim_args += ["--remove", oid]
        for app in sc.switched_off:
            sim_args += ["--off", app]
        if sc.simulator_dies_at_s is not None:
            sim_args += ["--die-at", str(sc.simulator_dies_at_s)]
        if opts.video_path:
            sim_args += ["--video", str(opts.video_path)]
        sim_args += injection.sim_args(sc, opts.seed)  # randomisation, timed perturbations
        log_dir = opts.trace_path.parent
        children.append(start_child("simulator", "bridge.sim_server", sim_args, log_dir))
        probe = LockstepSimClient(sim_ep, timeout_s=1.0)
        wait_until(lambda: probe.request("ping").ok, 60, children, "waiting for the simulator to start")
        probe.close()
        children.append(start_child("control", "control.service", ["--robot", sc.robot, "--sim", sim_ep, "--endpoint", ctl_ep, *injection.control_args(sc, opts.seed)], log_dir))
        control = ControlClient(ctl_ep)
        ready = ControlClient(ctl_ep, timeout_s=1.0)  # short time-outs while it loads its policy
        wait_until(lambda: "leg_controller" in ready.info(), 60, children, "waiting for the control loop to start")
        ready.close()
        write_scene(trace, world, control.observe())  # the viewer's map: objects, places, robot start
        console.header(opts.command, sc, spec.name)
        trace.write("/timing", {"name": "startup", "seconds": time.monotonic() - wall_start})

        def on_event(kind: str, payload: dict) -> None:
            sim_time = payload.get("sim_time")
            if sim_time is None and executor is not None and executor.ctx.state is not None:
                sim_time = executor.ctx.state.sim_time  # the robot's clock when the event happened
            trace.write(EVENT_TOPICS.get(kind, "/planner/event"), {"event": kind, **payload}, sim_time=sim_time)
            console.event(kind, payload)
            perturber(kind, payload, sim_time)

        executor = None
        perturber = injection.EventPerturber(sc, LockstepSimClient(sim_ep))
        executor = SkillExecutor(world, _TracedControl(control, trace, console), on_event=on_event)
        runner = _SkillRunner(executor, children, sc.sim_time_limit_s)
        n_arm = len(spec.indices(("left_arm", "right_arm")))
        result = injection.run_commands(sc, opts.command, runner, on_event, control, n_arm)
        final_world = None
        if all(c.alive() for c in children):
            injection.settle(control, sc.success.hold_for_s, n_arm)
            final_world = control.observe()
            sim_events = perturber.sim.request("events").payload
            snapshot = injection.final_snapshot(final_world, control.state(), sim_events, perturber.sent)
            trace.write("/world/final", snapshot, sim_time=final_world.sim_time)
        sim_time = final_world.sim_time if final_world else None
        wall = time.monotonic() - wall_start
        outcome = {
            "exit_code": EXIT_OK if result.success else EXIT_TASK_FAILED,
            "success": bool(result.success),
            "reason": result.message,
            "sim_time_s": sim_time,
            "wall_time_s": wall,
            "real_time_factor": (sim_time / wall) if sim_time else None,
        }
        console.summary(outcome)
        return outcome["exit_code"]
    except (BridgeDown, RuntimeError) as exc:
        dead = [c for c in children if not c.alive()]
        detail = str(exc)
        if dead and "process exited" not in detail and "process died" not in detail:
            detail = "; ".join(f"the {c.name} process died (exit code {c.exit_code()})" for c in dead) + f": {exc}"
        outcome = {"exit_code": EXIT_TASK_FAILED, "success": False, "reason": detail}
        trace.write("/log", {"level": "ERROR", "message": detail, "name": "run"})
        console.error(detail)
        return EXIT_TASK_FAILED
    except KeyboardInterrupt:
        outcome = {"exit_code": 130, "success": False, "reason": "interrupted by the operator"}
        console.error("interrupted")
        return 130
    finally:
        # A second Ctrl-C or SIGTERM during teardown must not cost the trace its footer.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            _stop_children(children, control, sim_ep)
        finally:
            trace.close(outcome)
            shutil.rmtree(ipc, ignore_errors=True)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        console.trace_written(opts.trace_path)


def _stop_children(children: list[Child], control: ControlClient | None, sim_ep: str) -> None:
    """Politely (shutdown requests), then firmly (SIGTERM, SIGKILL): no child outlives a run."""
    if control is not None:
        try:
            control.shutdown()
        except Exception:  # it may already be gone; it is stopped below either way
            pass
        control.close()
    for c in children:
        if c.name == "simulator" and c.alive():
            try:
                sim = LockstepSimClient(sim_ep, timeout_s=2.0)
                sim.request("shutdown")
                sim.close()
                c.proc.wait(10)
            except Exception:  # fall through to terminate
                pass
        try:
            c.stop()
        except Exception:  # a child that will not die is reported by the OS, not by us
            pass
