"""FrozenPolicy refuses tampered or mis-shaped files and runs a good one."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from control.observation import PolicyIO
from control.policy import FrozenPolicy, PolicyIntegrityError, PolicyShapeError
from humanoid.robot_spec import PolicyArtifact


def _export_linear(path: Path, n_in: int, n_out: int) -> str:
    """A tiny linear ONNX policy; returns its sha256."""
    torch.manual_seed(0)
    model = torch.nn.Linear(n_in, n_out)
    torch.onnx.export(model, (torch.zeros(1, n_in),), str(path), input_names=["obs"], output_names=["action"], dynamo=False)
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def io(spec) -> PolicyIO:
    return PolicyIO(spec)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_good_policy_loads_and_acts(tmp_path, io):
    path = tmp_path / "p.onnx"
    sha = _export_linear(path, io.obs_dim, io.action_dim)
    policy = FrozenPolicy(PolicyArtifact("stand", path, sha, None), io)
    action = policy.act(np.zeros(io.obs_dim, dtype=np.float32))
    assert action.dtype == np.float32 and action.shape == (io.action_dim,)
    assert np.all(np.abs(policy.act(np.full(io.obs_dim, 1e6, dtype=np.float32))) <= io.action_clip)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tampered_file_refuses_to_load(tmp_path, io):
    path = tmp_path / "p.onnx"
    sha = _export_linear(path, io.obs_dim, io.action_dim)
    tampered = tmp_path / "tampered.onnx"
    blob = bytearray(path.read_bytes())
    blob[-5] ^= 0xFF  # flip bits inside the weights
    tampered.write_bytes(bytes(blob))
    with pytest.raises(PolicyIntegrityError) as err:
        FrozenPolicy(PolicyArtifact("stand", tampered, sha, None), io)
    msg = str(err.value)
    assert sha in msg and hashlib.sha256(bytes(blob)).hexdigest() in msg and "manifest" in msg


def test_missing_file_refuses_to_load(tmp_path, io):
    with pytest.raises(PolicyIntegrityError, match="does not exist"):
        FrozenPolicy(PolicyArtifact("stand", tmp_path / "nope.onnx", "0" * 64, None), io)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("delta_in, delta_out", [(5, 0), (0, -1)])
def test_wrong_sizes_refuse_with_both_sizes_named(tmp_path, io, delta_in, delta_out):
    path = tmp_path / "p.onnx"
    n_in, n_out = io.obs_dim + delta_in, io.action_dim + delta_out
    sha = _export_linear(path, n_in, n_out)
    with pytest.raises(PolicyShapeError) as err:
        FrozenPolicy(PolicyArtifact("stand", path, sha, None), io)
    msg = str(err.value)
    assert f"observations of size {n_in}" in msg and f"actions of size {n_out}" in msg
    assert f"observation size {io.obs_dim}" in msg and f"action size {io.action_dim}" in msg


def test_no_torch_in_the_runtime_path():
    control = Path(__file__).resolve().parents[2] / "control"
    for py in control.glob("*.py"):
        assert "import torch" not in py.read_text(), f"{py} imports torch; only control/train/ may"


def test_shipped_policies_load_by_name_with_their_own_layout(spec):
    """`from_spec` picks the layout from the policy's name: the walking policy has its own."""
    stand, walk = FrozenPolicy.from_spec(spec, "stand"), FrozenPolicy.from_spec(spec, "walk")
    assert stand.io.kind == "stand" and walk.io.kind == "walk"
    assert walk.act(np.zeros(walk.io.obs_dim, dtype=np.float32)).shape == (walk.io.action_dim,)
