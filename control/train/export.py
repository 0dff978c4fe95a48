"""Export a trained actor to the frozen ONNX artifact the runtime loads.

The ONNX graph holds everything between observation and action: the observation
normaliser (frozen running mean/variance), the actor MLP's deterministic mean action and the
action clip. The runtime therefore feeds raw `PolicyIO` observations and never needs torch.
"""

from __future__ import annotations

import copy
import hashlib
import io
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn

from control.observation import PolicyIO
from control.policy import LAYOUT_METADATA_KEY
from control.train.ppo import ActorCritic

OPSET = 17
# metadata key of a mirror-averaged file: where its actor came from (a source file, or training)
MIRROR_METADATA_KEY = "mirror_averaged_from"


class DeployedActor(nn.Module):
    """normalise -> actor mean -> clip: exactly what runs on the robot."""

    def __init__(self, model: ActorCritic, action_clip: float) -> None:
        super().__init__()
        self.register_buffer("mean", model.obs_norm.mean.detach().clone().float())
        self.register_buffer("std", torch.sqrt(model.obs_norm.var.detach().float() + model.obs_norm.var_floor))
        self.obs_clip = float(model.obs_norm.clip)
        self.actor = copy.deepcopy(model.actor).float().eval()
        self.action_clip = float(action_clip)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        x = torch.clamp((obs - self.mean) / self.std, -self.obs_clip, self.obs_clip)
        return torch.clamp(self.actor(x), -self.action_clip, self.action_clip)


class MirrorAveragedActor(DeployedActor):
    """(a(s) + M_a a(M_s s)) / 2 of the deployed actor a: left-right symmetric by construction.

    A symmetry loss only pulls a policy toward symmetry, and ~0.04 rad of leftover asymmetry
    in the hip yaws is enough to stop turns one way (walk_v2 with the grippers closed). The
    average of a policy and its mirror image is exactly symmetric, whatever the weights. The
    parameter names stay DeployedActor's, so `load_deployed_actor` still reads the file.
    """

    def __init__(self, model: ActorCritic, action_clip: float) -> None:
        super().__init__(model, action_clip)
        obs_map, act_map = model.mirror
        self.register_buffer("mirror_obs_perm", torch.as_tensor(obs_map.perm, dtype=torch.long))
        self.register_buffer("mirror_obs_sign", torch.as_tensor(obs_map.sign, dtype=torch.float32))
        self.register_buffer("mirror_act_perm", torch.as_tensor(act_map.perm, dtype=torch.long))
        self.register_buffer("mirror_act_sign", torch.as_tensor(act_map.sign, dtype=torch.float32))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        mirrored = super().forward(obs[:, self.mirror_obs_perm] * self.mirror_obs_sign)
        return 0.5 * (super().forward(obs) + mirrored[:, self.mirror_act_perm] * self.mirror_act_sign)


def export_onnx(
    model: ActorCritic,
    policy_io: PolicyIO,
    path: Path,
    extra_metadata: dict[str, str] | None = None,
) -> str:
    """Write the deployed actor to `path` as ONNX; returns the file's sha256.

    A model built with mirror maps (`ActorCritic(mirror=...)`) is exported as the mirror average
    it was trained as (`MirrorAveragedActor`), so what ships is what training optimised."""
    extra_metadata = dict(extra_metadata or {})
    if model.mirror is None:
        deployed = DeployedActor(model, policy_io.action_clip).eval()
    else:
        deployed = MirrorAveragedActor(model, policy_io.action_clip).eval()
        extra_metadata.setdefault(MIRROR_METADATA_KEY, "training (the PPO policy mean was the mirror average)")
    buf = io.BytesIO()
    with warnings.catch_warnings():
        # the TorchScript exporter is deprecated but needs no extra packages (onnxscript)
        warnings.simplefilter("ignore")
        torch.onnx.export(
            deployed,
            (torch.zeros(1, policy_io.obs_dim),),
            buf,
            input_names=["obs"],
            output_names=["action"],
            dynamic_axes={"obs": {0: "batch"}, "action": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
    proto = onnx.load_from_string(buf.getvalue())
    meta = {
        LAYOUT_METADATA_KEY: policy_io.signature(),
        "obs_dim": str(policy_io.obs_dim),
        "action_dim": str(policy_io.action_dim),
        "robot": policy_io.spec.name,
        **extra_metadata,
    }
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(proto)
    blob = proto.SerializeToString()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(blob)
    return hashlib.sha256(blob).hexdigest()


def is_mirror_averaged(path: Path) -> bool:
    return any(p.key == MIRROR_METADATA_KEY for p in onnx.load(str(path)).metadata_props)


def load_deployed_actor(model: ActorCritic, path: Path) -> None:
    """The inverse of `export_onnx` for a warm start: the shipped file's observation normaliser
    and actor weights into `model` (the critic is not in the file and stays as it is). For
    continuing a policy whose training checkpoint is gone; the normaliser is given a large count
    so that the first updates do not move it away from what the actor was trained with. A
    mirror-averaged file holds one actor: it continues as the same policy only in a model that
    averages too, so a plain model refuses it."""
    init = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer}
    actor_keys = {k: v for k, v in init.items() if k.startswith("actor.")}
    expected = {f"actor.{k}" for k in model.actor.state_dict()}
    if set(actor_keys) != expected or "mean" not in init or "std" not in init:
        raise ValueError(
            f"{path} is not an actor exported by control.train.export for this network: it holds "
            f"{sorted(init)}, expected mean, std and {sorted(expected)} (check --hidden / the layout)"
        )
    if is_mirror_averaged(path) and model.mirror is None:
        raise ValueError(
            f"{path} is mirror-averaged (metadata '{MIRROR_METADATA_KEY}'): continuing it without the average "
            "would silently change the policy; train with PPOConfig.mirror_average (train_walk's default)"
        )
    with torch.no_grad():
        model.actor.load_state_dict({k[len("actor.") :]: torch.tensor(v) for k, v in actor_keys.items()})
        n = len(init["mean"])
        var = np.maximum(init["std"].astype(np.float64) ** 2 - model.obs_norm.var_floor, 0.0)
        for norm in (model.obs_norm, model.critic_norm):
            norm.mean[:n] = torch.tensor(init["mean"], dtype=norm.mean.dtype)
            norm.var[:n] = torch.as_tensor(var, dtype=norm.var.dtype)
            norm.count.fill_(1e7)
