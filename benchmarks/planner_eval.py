"""Planner evaluation: `python -m benchmarks.planner_eval [--backend embedded|vllm|transformers] [--json]`.

Grounds and plans every command of planner/eval/commands.yaml (180+, with the goal each must
reach in the default kitchen) and reports grounding accuracy, plan success, refusal accuracy
and latency per backend; the scoring lives in planner/evaluation.py. Examples:
  python -m benchmarks.planner_eval
  python -m benchmarks.planner_eval --backend vllm --base-url http://127.0.0.1:8000/v1 --model Qwen/Qwen2.5-7B-Instruct
  python -m benchmarks.planner_eval --backend transformers --model /models/qwen2.5-1.5b-instruct
"""

from __future__ import annotations

import argparse
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", action="append", help="embedded (default), vllm, transformers; repeatable")
    p.add_argument("--base-url", default="http://127.0.0.1:8000/v1", help="vLLM server (OpenAI API)")
    p.add_argument("--model", help="vLLM model name, or the transformers model folder")
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, help="only the first N commands (a quick look)")
    p.add_argument(
        "--set", default="commands", help="commands (default, 180+) or heldout (not used for tuning)"
    )
    args = p.parse_args(argv)
    from planner.evaluation import EVAL_PATH, evaluate, load_cases, make_backend

    cases = load_cases(EVAL_PATH.parent / f"{args.set}.yaml")[: args.limit]
    results = [evaluate(make_backend(b, args), cases) for b in args.backend or ["embedded"]]
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for res in results:
        print(f"backend {res['backend']}: {res['commands']} commands")
        for k in (
            "grounding_accuracy_pct",
            "plan_success_pct",
            "refusal_accuracy_pct",
            "false_refusals",
            "crashes",
            "latency_ms",
            "default_world_out_of_reach",
            "by_tag",
        ):
            print(f"  {k:28s} {res[k]}")
        for r in res["failures"]:
            print(
                f"  FAIL [{r['tag']}] {r['command']!r}: {r['outcome']} {r.get('goal') or r.get('message', '')[:160]}"
                f"{' | ' + r['plan_error'][:160] if r.get('plan_error') else ''}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
