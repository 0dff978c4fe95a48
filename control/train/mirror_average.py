"""Make a shipped walking policy left-right symmetric: average it with its mirror image.

    python -m control.train.mirror_average robots/reference_humanoid/policies/walk_v2.onnx \
        --name walk_v5 --out robots/reference_humanoid/policies

The new file's actor is (a(s) + M_a a(M_s s)) / 2 (`control.train.export.MirrorAveragedActor`),
with M the mirror maps of `control.train.symmetry`. No training: the source's weights are used
as they are, twice. Why it works: walk_v2 turned in place one way far better than the other, and
a symmetry loss did not fix that (docs/walking.md). The robot and its training env are
symmetric, so the mirror of a good left turn is a good right turn, and the average keeps
what each side does well. Both files are evaluated in the training env (same seed, same episodes)
and the card records both.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from control.observation import PolicyIO
from control.policy import FrozenPolicy, file_sha256
from control.train.env import build_training_model
from control.train.export import MIRROR_METADATA_KEY, OPSET, export_onnx, load_deployed_actor
from control.train.ppo import ActorCritic
from control.train.symmetry import walk_mirrors
from control.train.train_walk import EVAL_HEADER, batch_act_fn, eval_row, evaluate, walk_ppo_config
from humanoid.robot_spec import PolicyArtifact, RobotSpec, load_robot_spec


def mirror_average(spec: RobotSpec, source: Path, out: Path) -> str:
    """Write the mirror-averaged `source` to `out`; returns its sha256."""
    io = PolicyIO(spec, kind="walk")
    # only the actor is exported: the critic's privileged inputs do not matter here
    mirror = walk_mirrors(io, build_training_model(spec))
    model = ActorCritic(io.obs_dim, 0, io.action_dim, walk_ppo_config(), mirror=mirror)
    load_deployed_actor(model, source)
    meta = {"name": out.stem, "kind": "walk", MIRROR_METADATA_KEY: f"{source.name} sha256 {file_sha256(source)}"}
    return export_onnx(model, io, out, meta)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", type=Path, help="a walking policy exported by control.train.export")
    ap.add_argument("--name", required=True, help="name of the new policy (file <name>.onnx, card <name>.md)")
    ap.add_argument("--out", type=Path, required=True, help="folder for the new files")
    ap.add_argument("--robot", default="reference_humanoid")
    ap.add_argument("--eval-episodes", type=int, default=32)
    ap.add_argument("--eval-seconds", type=float, default=20.0)
    ap.add_argument("--eval-seed", type=int, default=10_000)
    args = ap.parse_args(argv)
    if not args.source.is_file():
        raise SystemExit(f"{args.source}: no such policy file (give the .onnx of a shipped walking policy)")

    spec = load_robot_spec(args.robot)
    io = PolicyIO(spec, kind="walk")
    out = args.out / f"{args.name}.onnx"
    sha = mirror_average(spec, args.source, out)
    print(f"wrote {out} sha256 {sha}", flush=True)
    rows = []
    for label, path in ((f"{args.source.stem} (source)", args.source), (f"{args.name} (mirror-averaged)", out)):
        policy = FrozenPolicy(PolicyArtifact("walk", path, file_sha256(path), None), io)
        ev = evaluate(spec, batch_act_fn(policy), args.eval_episodes, args.eval_seconds, args.eval_seed)
        print(f"eval {label}: {ev}", flush=True)
        rows.append(eval_row(label, ev))
    command = "python -m control.train.mirror_average " + " ".join(sys.argv[1:] if argv is None else argv)
    table = "\n".join(rows)
    card = args.out / f"{args.name}.md"
    card.write_text(f"""# Model card: {args.name} (walking, {spec.name})

Frozen RL execution layer policy: follows base velocity commands (vx, vy, wz in the heading
frame) and stands still at zero command. It is loaded read-only by `control.policy.FrozenPolicy`,
which checks the sha256 below against the manifest.

- file: `{out.name}`, sha256 `{sha}`
- ONNX opset {OPSET}; input `obs` float32 (batch, {io.obs_dim}); output `action` float32 (batch, {io.action_dim})
- layout signature: `{io.signature()}` (the source's)
- inside the graph: the source's normaliser and MLP, run on the observation and on its mirror
  image. The output is the average of the action and the mirrored action of the mirror image
  (`control.train.export.MirrorAveragedActor`), so the policy is left-right symmetric by
  construction.

## How it was made
- command: `{command}`
- source: `{args.source.name}`, sha256 `{file_sha256(args.source)}`. Its card says how that policy
  was trained; no training was added here.
- mirror maps: `control/train/symmetry.py`. Joints are paired by reflected geometry, and the
  pairing is tested against MuJoCo's kinematics.

## Evaluation in the training env ({args.eval_episodes} episodes of {args.eval_seconds:g} s, eval seed {args.eval_seed})
Same episodes for both (`control.train.train_walk.evaluate`: random commands, pushes, arm motion,
payload). Fall = tilt > 0.8 rad or pelvis below 0.45 m.

{EVAL_HEADER}
{table}
""")
    print(f"wrote {card}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
