"""Policy inference latency: the frozen ONNX policy through `FrozenPolicy.act` vs plain numpy.

    python benchmarks/policy_inference.py [--calls 5000] [--policy stand]

Times `FrozenPolicy.act` (onnxruntime, 1 thread, no spinning) on the manifest's policy and,
for scale, the same MLP (normalise -> layers -> clip) evaluated with numpy matmuls in this
process, weights read from the ONNX file. Prints p50/p99/mean in microseconds.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import onnx
from onnx import numpy_helper

from control.observation import PolicyIO
from control.policy import FrozenPolicy
from humanoid.robot_spec import load_robot_spec


def numpy_mlp(model_path: str, obs_clip: float = 5.0):
    """Rebuild the exported graph's arithmetic in numpy from its initialisers (Gemm/MatMul weights)."""
    graph = onnx.load(model_path).graph
    tensors = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for node in graph.node:  # constants folded into Constant nodes instead of initialisers
        if node.op_type == "Constant":
            tensors[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    mats = [(n, tensors) for n in graph.node if n.op_type in ("Gemm", "MatMul")]
    layers = []
    for node, t in mats:
        w = t[node.input[1]]
        if node.op_type == "Gemm" and any(a.name == "transB" and a.i == 1 for a in node.attribute):
            w = w.T
        b = t[node.input[2]] if len(node.input) > 2 else np.zeros(w.shape[1], dtype=np.float32)
        layers.append((np.ascontiguousarray(w, dtype=np.float32), b.astype(np.float32)))
    mean = std = None
    for node in graph.node:
        if node.op_type == "Sub" and node.input[1] in tensors:
            mean = tensors[node.input[1]]
        if node.op_type == "Div" and node.input[1] in tensors:
            std = tensors[node.input[1]]
    n_in = layers[0][0].shape[0]
    mean = np.zeros(n_in, np.float32) if mean is None else mean
    std = np.ones(n_in, np.float32) if std is None else std

    def run(obs: np.ndarray) -> np.ndarray:
        x = np.clip((obs - mean) / std, -obs_clip, obs_clip)
        for i, (w, b) in enumerate(layers):
            x = x @ w + b
            if i < len(layers) - 1:
                x = np.where(x > 0, x, np.expm1(np.minimum(x, 0)))  # ELU
        return x

    return run


def percentiles(fn, obs: np.ndarray, calls: int) -> dict[str, float]:
    for i in range(200):  # warm-up
        fn(obs[i % len(obs)])
    t = np.empty(calls)
    for i in range(calls):
        t0 = time.perf_counter_ns()
        fn(obs[i % len(obs)])
        t[i] = time.perf_counter_ns() - t0
    t /= 1e3
    return {"p50": float(np.percentile(t, 50)), "p99": float(np.percentile(t, 99)), "mean": float(t.mean())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=5000)
    ap.add_argument("--policy", default="stand")
    args = ap.parse_args()

    spec = load_robot_spec()
    io = PolicyIO(spec)
    policy = FrozenPolicy.from_spec(spec, args.policy)
    obs = np.random.default_rng(0).normal(scale=0.3, size=(256, io.obs_dim)).astype(np.float32)
    mlp = numpy_mlp(str(spec.policy(args.policy).path))
    diff = max(float(np.max(np.abs(mlp(o) - policy.act(o)))) for o in obs[:32])  # clip is a no-op here
    rows = {
        "FrozenPolicy.act (onnxruntime)": percentiles(policy.act, obs, args.calls),
        "numpy MLP, same weights": percentiles(mlp, obs, args.calls),
    }
    print(f"policy '{args.policy}': obs {io.obs_dim} -> action {io.action_dim}, {args.calls} calls, 1 thread")
    print(f"{'':34s} {'p50 us':>8s} {'p99 us':>8s} {'mean us':>8s}")
    for name, r in rows.items():
        print(f"{name:34s} {r['p50']:8.1f} {r['p99']:8.1f} {r['mean']:8.1f}")
    ratio = rows["FrozenPolicy.act (onnxruntime)"]["p50"] / rows["numpy MLP, same weights"]["p50"]
    print(f"onnxruntime / numpy p50 ratio: {ratio:.2f}; max |difference| {diff:.1e}")
    print(f"control period at {spec.control_rate_hz:g} Hz: {1e6 / spec.control_rate_hz:.0f} us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
