"""Two runs side by side: their subgoals lined up, and the first place they went apart.

Runs of the same command diverge where one run's subgoal sequence (what was tried, and how
it ended) first differs from the other's: a different skill or arguments, a different
result, or one run stopping where the other goes on.
"""

from __future__ import annotations

from typing import Any


def _step(subgoal: dict[str, Any]) -> tuple[str, str, str | None]:
    return subgoal["label"], subgoal["status"], subgoal.get("reason")


def compare_runs(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Line up two indexed runs (`run_index.index_run`) subgoal by subgoal."""
    rows = []
    diverged_at: int | None = None
    sa, sb = a["subgoals"], b["subgoals"]
    for i in range(max(len(sa), len(sb))):
        left = sa[i] if i < len(sa) else None
        right = sb[i] if i < len(sb) else None
        same = left is not None and right is not None and _step(left) == _step(right)
        if not same and diverged_at is None:
            diverged_at = i
        rows.append({"row": i, "a": left and left["id"], "b": right and right["id"], "same": same})
    if diverged_at is None:
        how = "the two runs did the same subgoals with the same results"
    else:
        left = sa[diverged_at] if diverged_at < len(sa) else None
        right = sb[diverged_at] if diverged_at < len(sb) else None
        how = f"step {diverged_at + 1}: A {_say(left)}, B {_say(right)}" + (
            f" (A at sim {left['t0']:.2f} s, B at sim {right['t0']:.2f} s)" if left and right else ""
        )
    return {
        "a": a["id"],
        "b": b["id"],
        "rows": rows,
        "diverged_at": diverged_at,
        "summary": how,
        "outcomes": [a["outcome"], b["outcome"]],
    }


def _say(subgoal: dict[str, Any] | None) -> str:
    if subgoal is None:
        return "had stopped"
    result = subgoal["status"] + (f" ({subgoal['reason']})" if subgoal.get("reason") else "")
    return f"{subgoal['label']} {result}"
