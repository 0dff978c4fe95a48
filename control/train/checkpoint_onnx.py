"""A walking run's checkpoint as an ONNX file: measure a run while it trains, or after it stopped.

    python -m control.train.checkpoint_onnx runs/walk_v8_ckpt.pt runs/walk_v8_partial.onnx

`train_walk --checkpoint` saves the networks every 20 iterations, but only the end of a run is
exported; a long CPU run is worth looking at half-way (`benchmarks.walking`, `benchmarks.stops`
with `--policy walk=...`). The file is exported exactly as the end of a run would export it
(`control.train.export.export_onnx`, mirror-averaged unless told otherwise) and is not recorded in
any manifest; it has no model card, so it is for measuring, never for shipping.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import torch

from control.observation import PolicyIO
from control.train.env import build_training_model
from control.train.export import export_onnx
from control.train.ppo import PPO
from control.train.symmetry import walk_mirrors
from control.train.train_walk import walk_ppo_config
from control.train.walk_env import PRIV_DIM
from humanoid.robot_spec import RobotSpec, load_robot_spec


def export_walk_checkpoint(
    spec: RobotSpec, checkpoint: Path, out: Path, mirror_average: bool = True
) -> tuple[str, dict[str, object]]:
    """Write the checkpoint's actor to `out`; returns the file's sha256 and the run's counters
    at the checkpoint (env steps, iterations)."""
    io = PolicyIO(spec, kind="walk")
    cfg = replace(walk_ppo_config(), mirror_average=mirror_average)
    mirror = walk_mirrors(io, build_training_model(spec)) if mirror_average else None
    ppo = PPO(io.obs_dim, PRIV_DIM, io.action_dim, 1, cfg, mirror=mirror)
    ck = torch.load(checkpoint, weights_only=False)
    if not isinstance(ck, dict) or "model" not in ck:
        raise SystemExit(f"{checkpoint} is not a train_walk checkpoint (no 'model' entry): pass the file --checkpoint wrote")
    try:
        ppo.model.load_state_dict(ck["model"])
    except RuntimeError as e:
        raise SystemExit(
            f"{checkpoint} does not fit the walking network of today's layout "
            f"(or was trained with{'out' if mirror_average else ''} --mirror-average): {e}"
        ) from None
    counters = {"env_steps": ck.get("env_steps", "?"), "iterations": ck.get("iterations", "?")}
    meta = {"name": out.stem, "kind": "walk", "checkpoint": str(checkpoint), "env_steps": str(counters["env_steps"])}
    return export_onnx(ppo.model, io, out, meta), counters


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", type=Path, help="the file train_walk --checkpoint writes")
    ap.add_argument("out", type=Path, help="the .onnx file to write")
    ap.add_argument("--robot", default="reference_humanoid")
    ap.add_argument("--no-mirror-average", action="store_true", help="the run was trained with --no-mirror-average")
    args = ap.parse_args(argv)
    if not args.checkpoint.is_file():
        raise SystemExit(f"no checkpoint at {args.checkpoint}: pass the path given to train_walk --checkpoint")
    sha, counters = export_walk_checkpoint(load_robot_spec(args.robot), args.checkpoint, args.out, not args.no_mirror_average)
    print(f"exported {args.out} (sha256 {sha}) from {args.checkpoint}: {counters['env_steps']} env steps, "
          f"iteration {counters['iterations']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
