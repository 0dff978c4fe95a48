"""The frozen balance policy: an ONNX file run by onnxruntime, verified before it runs.

DESIGN.md: the runtime loads the policy read-only and checks its sha256 against the robot's
manifest; a mismatch refuses to start. Nothing here can change a weight. No torch.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import onnxruntime as ort

from control.observation import PolicyIO
from humanoid.robot_spec import PolicyArtifact, RobotSpec

LAYOUT_METADATA_KEY = "policy_io_signature"


class PolicyError(RuntimeError):
    """A policy artifact that cannot be used."""


class PolicyIntegrityError(PolicyError):
    """The policy file's sha256 differs from the manifest's (or the file is missing)."""


class PolicyShapeError(PolicyError):
    """The ONNX model's input/output sizes (or layout) do not match the robot's `PolicyIO`."""


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _last_dim(shape: list) -> int | None:
    return shape[-1] if shape and isinstance(shape[-1], int) else None


class FrozenPolicy:
    """Maps one observation to one action; the only runtime entry point is `act`."""

    def __init__(self, artifact: PolicyArtifact, io: PolicyIO) -> None:
        self.artifact = artifact
        self.io = io
        path = Path(artifact.path)
        if not path.is_file():
            raise PolicyIntegrityError(
                f"policy '{artifact.name}': file {path} does not exist. Train it with "
                "`python -m control.train.train_stand` or restore it from version control."
            )
        # hash the exact bytes the session is built from, so the checked file is the one that runs
        blob = path.read_bytes()
        actual = hashlib.sha256(blob).hexdigest()
        if actual != artifact.sha256:
            raise PolicyIntegrityError(
                f"policy '{artifact.name}': {path} has sha256 {actual}, but the manifest expects "
                f"{artifact.sha256}. Refusing to load a policy that is not the promoted artifact. "
                "Restore the file from version control, or, if this file is a newly trained policy "
                "that a person has reviewed, update `policies.<name>.sha256` in the robot manifest."
            )
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        # a spinning worker would steal the CPU the simulator and planner need
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        try:
            self._session = ort.InferenceSession(blob, sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises several exception types for bad files
            raise PolicyShapeError(f"policy '{artifact.name}': {path} is not a loadable ONNX model: {exc}") from None
        self._check_shapes(path)
        self._input_name = self._session.get_inputs()[0].name
        self._output_name = self._session.get_outputs()[0].name
        self._buffer = np.zeros((1, io.obs_dim), dtype=np.float32)

    @classmethod
    def from_spec(cls, spec: RobotSpec, name: str = "stand") -> FrozenPolicy:
        """Load the policy `name` listed in the robot's manifest; `walk` uses the walking layout."""
        return cls(spec.policy(name), PolicyIO(spec, kind="walk" if name == "walk" else "stand"))

    def _check_shapes(self, path: Path) -> None:
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1 or len(outputs) < 1:
            raise PolicyShapeError(
                f"policy '{self.artifact.name}': {path} has {len(inputs)} inputs and {len(outputs)} outputs; "
                "expected one observation input and one action output."
            )
        obs_dim, act_dim = _last_dim(inputs[0].shape), _last_dim(outputs[0].shape)
        if obs_dim != self.io.obs_dim or act_dim != self.io.action_dim:
            raise PolicyShapeError(
                f"policy '{self.artifact.name}': {path} takes observations of size {obs_dim} and returns "
                f"actions of size {act_dim}, but robot '{self.io.spec.name}' uses observation size "
                f"{self.io.obs_dim} and action size {self.io.action_dim} (control/observation.py). "
                "The policy was trained for another layout: retrain it with `python -m control.train.train_stand`."
            )
        meta = self._session.get_modelmeta().custom_metadata_map
        stored = meta.get(LAYOUT_METADATA_KEY)
        if stored is not None and stored != self.io.signature():
            raise PolicyShapeError(
                f"policy '{self.artifact.name}': {path} was trained with observation layout '{stored}', "
                f"but this build uses '{self.io.signature()}'. Retrain or revert control/observation.py."
            )

    def act(self, obs: np.ndarray) -> np.ndarray:
        """The deterministic action for one observation: float32 (action_dim,), clipped."""
        obs = np.asarray(obs)
        if obs.shape != (self.io.obs_dim,):
            raise PolicyShapeError(f"observation: expected shape ({self.io.obs_dim},), got {obs.shape}")
        self._buffer[0] = obs
        action = self._session.run([self._output_name], {self._input_name: self._buffer})[0][0]
        return np.clip(action, -self.io.action_clip, self.io.action_clip).astype(np.float32, copy=False)
