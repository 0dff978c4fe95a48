"""Shared helpers for the benchmarks: percentiles and a plain table."""

from __future__ import annotations

import numpy as np


def summarize(samples_s: list[float]) -> dict[str, float]:
    a = np.asarray(samples_s) * 1e3
    return {"n": len(a), "p50_ms": float(np.percentile(a, 50)), "p99_ms": float(np.percentile(a, 99)), "mean_ms": float(a.mean())}


def table(rows: list[tuple[str, dict[str, float]]], baseline: str) -> str:
    base = dict(rows)[baseline]["p50_ms"]
    lines = [f"{'case':44s} {'n':>6s} {'p50 ms':>9s} {'p99 ms':>9s} {'p50 / ' + baseline:>20s}"]
    for name, s in rows:
        lines.append(f"{name:44s} {s['n']:6d} {s['p50_ms']:9.3f} {s['p99_ms']:9.3f} {s['p50_ms'] / base:20.2f}")
    return "\n".join(lines)


def with_candidate_policies(spec, overrides: list[str]):
    """The spec with `NAME=PATH.onnx` policies in place of the manifest's (`--policy walk=...`)."""
    for item in overrides:
        name, sep, path = item.partition("=")
        if not sep:
            raise SystemExit(f"--policy expects NAME=PATH to an .onnx file (e.g. walk=runs/walk_v4.onnx); got '{item}'")
        spec = spec.with_policy_file(name, path)
    return spec
