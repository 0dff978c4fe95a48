"""Appliance behaviour, simulated inside the world (never in the planner).

The coffee machine brews into the mug standing in its slot when its spring button is
pushed in; the kettle heats water when its switch is pressed; tilting a container over
another one pours its contents across. A scenario can switch an appliance off. The
simulator reports the resulting states through the perception stand-in (`attrs`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mujoco
import numpy as np

BUTTON_PRESSED_M = 0.008  # button travel that counts as a press (range is 12 mm)
BREW_TIME_S = 1.5
KETTLE_BOIL_S = 2.0
POUR_TILT_RAD = 1.1  # ~63 degrees from upright
POUR_RADIUS_M = 0.08
LIQUID_RGBA = {None: (0.95, 0.95, 0.95, 1.0), "water": (0.6, 0.8, 1.0, 1.0), "coffee": (0.3, 0.17, 0.07, 1.0)}


def in_site_box(model: mujoco.MjModel, data: mujoco.MjData, site: str, point: np.ndarray) -> bool:
    """True if `point` (world) lies inside the box site `site`."""
    sid = model.site(site).id
    local = data.site_xmat[sid].reshape(3, 3).T @ (point - data.site_xpos[sid])
    return bool(np.all(np.abs(local) <= model.site_size[sid]))


def _tilt(data: mujoco.MjData, body_id: int) -> float:
    """Angle between the body's z axis and the world's z axis."""
    z = data.xmat[body_id].reshape(3, 3)[:, 2]
    return float(np.arccos(np.clip(z[2], -1.0, 1.0)))


@dataclass
class Appliances:
    """State of the kitchen's appliances and containers; `update` runs every physics step."""

    model: mujoco.MjModel
    powered: dict[str, bool] = field(default_factory=dict)
    contents: dict[str, set[str]] = field(default_factory=dict)  # container id -> ingredients
    events: list[dict] = field(default_factory=list)
    _button_down: bool = False
    _brew_until: float | None = None
    _boil_until: float | None = None
    _kettle_switch_down: bool = False

    def __post_init__(self) -> None:
        names = {self.model.body(i).name for i in range(self.model.nbody)}
        self.has_machine = "coffee_machine" in names
        self.has_kettle = "kettle" in names
        for a in ("coffee_machine", "kettle"):
            self.powered.setdefault(a, a in names)
        self.mugs = [n for n in ("mug_red", "mug_blue") if n in names]
        for m in self.mugs:
            self.contents.setdefault(m, set())
        if self.has_kettle:
            self.contents.setdefault("kettle", {"water"})
        if "instant_coffee" in names:
            self.contents.setdefault("instant_coffee", {"instant_coffee"})

    def switch(self, appliance: str, on: bool) -> None:
        if appliance not in self.powered:
            raise KeyError(f"no appliance '{appliance}'; known: {sorted(self.powered)}")
        self.powered[appliance] = on

    def busy(self, appliance: str) -> bool:
        """True while the appliance is working (brewing, heating): its status light is on."""
        if appliance == "coffee_machine":
            return self._brew_until is not None
        if appliance == "kettle":
            return self._boil_until is not None
        return False

    def mug_content(self, mug: str) -> str | None:
        c = self.contents.get(mug, set())
        if {"hot_water", "instant_coffee"} <= c or "coffee" in c:
            return "coffee"
        if "hot_water" in c or "water" in c:
            return "water"
        return None

    def update(self, data: mujoco.MjData) -> None:
        t = data.time
        if self.has_machine:
            pressed = data.joint("coffee_machine_button").qpos[0] > BUTTON_PRESSED_M
            if pressed and not self._button_down:
                self._on_button(t)
            self._button_down = pressed
            if self._brew_until is not None and t >= self._brew_until:
                self._brew_until = None
                self._finish_brew(data)
        if self._boil_until is not None and t >= self._boil_until:
            self._boil_until = None
            self.contents["kettle"] = (self.contents["kettle"] - {"water"}) | {"hot_water"}
            self.events.append({"sim_time": t, "appliance": "kettle", "event": "boiled"})
        self._pour(data)

    def press_kettle_switch(self, t: float) -> None:
        """The kettle's switch is pressed (by the press skill's fingertip contact)."""
        if not self.powered.get("kettle", False):
            self.events.append({"sim_time": t, "appliance": "kettle", "event": "pressed while off"})
            return
        if "water" in self.contents.get("kettle", set()):
            self._boil_until = t + KETTLE_BOIL_S
            self.events.append({"sim_time": t, "appliance": "kettle", "event": "heating"})

    def _on_button(self, t: float) -> None:
        if not self.powered["coffee_machine"]:
            self.events.append({"sim_time": t, "appliance": "coffee_machine", "event": "button pressed while off"})
            return
        self._brew_until = t + BREW_TIME_S
        self.events.append({"sim_time": t, "appliance": "coffee_machine", "event": "brewing"})

    def _finish_brew(self, data: mujoco.MjData) -> None:
        for mug in self.mugs:
            if in_site_box(self.model, data, "coffee_machine_slot", data.body(mug).xpos):
                self.contents[mug].add("coffee")
                self._tint(mug)
                self.events.append({"sim_time": data.time, "appliance": "coffee_machine", "event": f"filled {mug}"})
                return
        self.events.append({"sim_time": data.time, "appliance": "coffee_machine", "event": "brewed with no mug in the slot"})

    def _pour(self, data: mujoco.MjData) -> None:
        """A tilted container over a mug gives the mug its contents."""
        for src in ("kettle", "instant_coffee"):
            if src not in self.contents or not self.contents[src]:
                continue
            bid = self.model.body(src).id
            if _tilt(data, bid) < POUR_TILT_RAD:
                continue
            p = data.xpos[bid]
            for mug in self.mugs:
                m = data.body(mug).xpos
                if np.linalg.norm(p[:2] - m[:2]) < POUR_RADIUS_M and p[2] > m[2]:
                    poured = self.contents[src] & {"hot_water", "water", "instant_coffee"}
                    if poured - self.contents[mug]:
                        self.contents[mug] |= poured
                        self._tint(mug)
                        self.events.append({"sim_time": data.time, "appliance": src, "event": f"poured into {mug}"})

    def _tint(self, mug: str) -> None:
        gid = self.model.geom(f"{mug}_liquid").id
        self.model.geom_rgba[gid] = LIQUID_RGBA[self.mug_content(mug)]
