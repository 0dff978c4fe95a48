"""Planner latency: `python -m benchmarks.planner_latency [--repeats N] [--json]`.

Measures the embedding model's load (cold, torch import included), grounding on the lexical
and the embedding path, and grounding + planning + validation from an observation, each
after a warm-up. Numbers for docs come from here, never from timed unit tests.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _timed(fn: Callable[[], Any], repeats: int) -> dict[str, float]:
    fn()  # warm-up: caches, first grounding of the domain
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1e3)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p90_ms": round(samples[int(0.9 * (len(samples) - 1))], 2),
        "max_ms": round(samples[-1], 2),
    }


def run(repeats: int = 30) -> dict[str, Any]:
    from planner import embeddings
    from planner.cli_support import plan_command
    from planner.grounding import default_grounder
    from planner.scene_snapshot import scene_observation

    t0 = time.perf_counter()
    embeddings.load_model()
    load_s = time.perf_counter() - t0
    grounder = default_grounder()
    t0 = time.perf_counter()
    grounder.matcher.warm_up()
    examples_s = time.perf_counter() - t0

    worlds = {
        "machine": scene_observation(),
        "machine_off": scene_observation(attrs={"coffee_machine": {"powered": False}}),
        "no_machine": scene_observation(remove=("coffee_machine",)),
    }
    return {
        "embedding_model_load_s": round(load_s, 3),
        "embedding_examples_encode_s": round(examples_s, 3),
        "ground_lexical": _timed(lambda: grounder.ground("could you brew me a cup of cofee"), repeats),
        "ground_embedding": _timed(
            lambda: grounder.ground("something to keep me awake"), repeats
        ),
        "plan_coffee_machine": _timed(lambda: plan_command("make me a coffee", worlds["machine"]), repeats),
        "plan_coffee_kettle_machine_off": _timed(
            lambda: plan_command("make me a coffee", worlds["machine_off"]), repeats
        ),
        "plan_coffee_kettle_no_machine": _timed(
            lambda: plan_command("make me a coffee", worlds["no_machine"]), repeats
        ),
        "plan_put_red_mug_in_machine": _timed(
            lambda: plan_command("put the red mug in the coffee machine", worlds["machine"]), repeats
        ),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    res = run(args.repeats)
    if args.json:
        print(json.dumps(res, indent=2))
        return
    for k, v in res.items():
        print(f"{k:34s} {v}")


if __name__ == "__main__":
    main()
