"""The stop benchmark (benchmarks/stops.py): a stop from walking ends on the standing policy, at rest, in place."""

from __future__ import annotations

import numpy as np

from benchmarks.stops import Stop, run_stop, summary
from scenarios.world import build_world


def test_shipped_policies_stop_from_a_walk_and_hand_over_at_rest(spec):
    world = build_world("open_floor", spec)
    stop = run_stop(world, spec, np.array([0.4, 0.0, 0.0]), walk_s=2.0, after_s=3.0)
    assert not stop.fell
    assert np.isfinite(stop.handover_s), "the standing policy took over within 3 s"
    assert stop.handover_speed < 0.1, "handed over at rest"
    assert stop.shift_m < 0.08, f"the hand-over moved the robot {stop.shift_m:.3f} m"


def test_summary_counts_falls_by_policy_and_stops_that_never_handed_over():
    ok = Stop((0.2, 0.0, 0.0), 3.0, order_speed=0.2, handover_s=1.5, handover_speed=0.02, slide_m=0.05, shift_m=0.03,
              shift_along_m=-0.02)
    fell = Stop((0.6, 0.0, 0.0), 3.0, fell=True, fell_in="stand")
    stuck = Stop((0.6, 0.0, 0.0), 3.0, order_speed=0.5)
    s = summary([ok, fell, stuck])
    assert (s["stops"], s["falls"], s["falls_standing"], s["no_handover"]) == (3, 1, 1, 1)
    assert np.isclose(s["back_m_max"], 0.02) and np.isclose(s["shift_m_max"], 0.03)
