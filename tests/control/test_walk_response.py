"""The steady-response benchmark (benchmarks/walk_response.py): the measurement and the drawing."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np

from benchmarks.walk_response import AXES, axis_rms, steady_velocity, svg
from scenarios.world import build_world


def test_steady_velocity_of_the_shipped_policy_moves_the_way_asked(spec):
    """Forward asked, forward reached (in the heading frame), no sideways or turn to speak of."""
    world = build_world("open_floor", spec)
    got, fell = steady_velocity(world, spec, np.array([0.4, 0.0, 0.0]), settle_s=2.0, measure_s=1.4, reference_only=False)
    assert not fell
    assert 0.15 < got[0] < 0.6 and abs(got[1]) < 0.1 and abs(got[2]) < 0.15
    got, fell = steady_velocity(world, spec, np.array([0.0, 0.0, 0.6]), settle_s=2.0, measure_s=1.4, reference_only=False)
    assert not fell and got[2] > 0.2


def test_axis_rms_counts_a_fall_as_nothing_reached():
    rows = [{"asked": 0.2, "achieved": [0.1, 0.0, 0.0], "fell": False}, {"asked": 0.4, "achieved": [np.nan] * 3, "fell": True}]
    assert np.isclose(axis_rms(rows, 0), np.sqrt((0.1**2 + 0.4**2) / 2))


def test_svg_draws_one_panel_per_axis_and_one_line_per_policy(tmp_path):
    def curve(gain):
        return {a: [{"asked": float(v), "achieved": [gain * v if i == k else 0.0 for i in range(3)], "fell": a == "vx" and v < -0.25}
                    for v in grid] for a, (k, grid, _) in AXES.items()}

    svg({"a": curve(1.0), "b": curve(0.5)}, tmp_path / "r.svg")
    root = ET.parse(tmp_path / "r.svg").getroot()
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f"{ns}polyline")) == 3 * 2
    assert sum(t.text == "x" for t in root.findall(f"{ns}text")) == 2  # each policy's fall at vx -0.3
