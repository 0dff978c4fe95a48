"""Start and stop the stack's processes: simulator, control loop (the planner+motion run here).

Each child is a `python -m` module with its log in the run folder. Stopping is polite first
(a shutdown request), then SIGTERM, then SIGKILL, so no child outlives a run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Child:
    name: str
    proc: subprocess.Popen
    log_path: Path

    def alive(self) -> bool:
        return self.proc.poll() is None

    def exit_code(self) -> int | None:
        return self.proc.poll()

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])

    def stop(self, timeout_s: float = 3.0) -> None:
        if not self.alive():
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout_s)


def ipc_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="humanoid-"))


def start_child(name: str, module: str, args: list[str], log_dir: Path) -> Child:
    log_path = log_dir / f"{name}.log"
    log = open(log_path, "w")  # noqa: SIM115 - handed to the child, closed here once it has it
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    # MuJoCo picks its OpenGL backend when it is imported: headless EGL unless told otherwise.
    env.setdefault("MUJOCO_GL", "egl")
    proc = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        preexec_fn=_die_with_parent,
    )
    log.close()  # the child has its own descriptor
    return Child(name, proc, log_path)


def _die_with_parent() -> None:
    """Linux: the kernel sends the child SIGTERM if the run process dies, even by SIGKILL,
    so no simulator or control loop is left behind."""
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    except OSError:  # not Linux: the run's own teardown still stops its children
        pass


def wait_until(check, timeout_s: float, children: list[Child], what: str) -> None:
    """Poll `check()` until it returns True; fail early with the log of any child that died."""
    deadline = time.monotonic() + timeout_s
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        for c in children:
            if not c.alive():
                raise RuntimeError(f"the {c.name} process exited with code {c.exit_code()} while {what}:\n{c.log_tail()}")
        try:
            if check():
                return
        except Exception as exc:  # not up yet: keep polling until the deadline
            last_exc = exc
        time.sleep(0.05)
    raise RuntimeError(f"timed out after {timeout_s:.0f} s {what}: {last_exc}")
