"""Per-device readings: FIWARE key-values payloads from the environment and device state."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ioc.core.city import TZ_FIXED, UTC_OFFSET_S
from ioc.core.registry import Device
from ioc.sensors_sim.physics import DUSK_ELEVATION_DEG, traffic_demand, traffic_speed_kmh
from ioc.sensors_sim.scenarios import Plan
from ioc.sensors_sim.world import (
    Environment,
    base_fraction,
    level_fraction,
    susceptibility,
    unit_hash,
)

__all__ = ["DeviceModels", "iso_local"]

_CAPACITY_VPH = {"ql14": 1800.0, "dt741": 1400.0}
_URBAN_CAPACITY_VPH = 900.0
_BATTERY_DRAIN = 0.00002  # per report: about 3 % a day at one report a minute
_TIP_MM = 0.2  # tipping-bucket rain gauge resolution


def iso_local(t: float) -> str:
    """ISO 8601 with the +07:00 offset and milliseconds, as the field devices send it."""
    return datetime.fromtimestamp(t, TZ_FIXED).isoformat(timespec="milliseconds")


def _local_hour(t: float) -> tuple[float, bool]:
    local = t + UTC_OFFSET_S
    weekday = (int(local // 86400) + 3) % 7  # 1970-01-01 was a Thursday
    return (local % 86400) / 3600.0, weekday >= 5


class DeviceModels:
    """State of every simulated device (seq, meters, batteries) and its reading builder."""

    def __init__(self, devices: Sequence[Device], plan: Plan, env: Environment,
                 seed: int) -> None:
        self.devices = devices
        self.env = env
        self.rng = random.Random(seed)
        n = len(devices)
        self.seq = [0] * n
        self.energy = [round(100 + 4900 * unit_hash(seed, d.id + ":e"), 3) for d in devices]
        self.battery = [0.55 + 0.44 * unit_hash(seed, d.id + ":v") for d in devices]
        self.bucket = [0.0] * n
        self.base = [base_fraction(seed, d.id) for d in devices]
        self.dusk_offset = [1.4 * unit_hash(seed, d.id + ":d") - 0.7 for d in devices]
        factors = susceptibility(devices, seed)
        self.factor = [factors.get(d.id, 0.0) for d in devices]
        self.incidents = {dev: inc for inc in plan.incidents for dev in inc.device_ids}
        self.dark = {c.circuit: c.start_s for c in plan.dark_circuits}
        self.day_burners = plan.day_burners
        self._builders = {"traffic": self._traffic, "streetlight": self._streetlight,
                          "drainage": self._drainage}

    def reading(self, idx: int, t: float) -> dict[str, Any]:
        """The next reading of device `idx` at epoch seconds t (advances its seq)."""
        device = self.devices[idx]
        doc = self._builders[device.domain](idx, device, t)
        self.seq[idx] += 1
        return doc

    def past_reading(self, idx: int, t: float, back_s: float) -> dict[str, Any]:
        """A reading stamped `back_s` earlier with an older seq (a delayed delivery)."""
        doc = self._builders[self.devices[idx].domain](idx, self.devices[idx], t - back_s)
        doc["seq"] = max(0, self.seq[idx] - 1 - int(back_s // self.devices[idx].interval_s))
        if isinstance(doc["dateObserved"], int):
            return doc
        doc["dateObserved"] = iso_local(t - back_s)
        return doc

    def _traffic(self, idx: int, device: Device, t: float) -> dict[str, Any]:
        gauss = self.rng.gauss
        hour, weekend = _local_hour(t)
        ff = device.free_flow_kmh or 50.0
        capacity = _CAPACITY_VPH.get(device.road or "", _URBAN_CAPACITY_VPH)
        vc = max(0.0, traffic_demand(hour, weekend) * (1 + 0.06 * gauss(0, 1)))
        speed = traffic_speed_kmh(ff, vc) * (1 + 0.04 * gauss(0, 1))
        incident = self.incidents.get(device.id)
        if incident is not None and incident.start_s <= t < incident.end_s:
            vc, speed = 0.03 * abs(gauss(1, 0.3)), abs(gauss(1.5, 0.8))
            occupancy = min(0.97, 0.88 + 0.03 * gauss(0, 1))
        else:
            density = capacity * vc / max(speed, 1.0)  # vehicles per km
            occupancy = min(0.95, density * 0.007)
        volume = max(0, round(capacity * vc * device.interval_s / 3600.0))
        return {"dateObserved": int(t * 1000), "seq": self.seq[idx], "intensity": volume,
                "averageVehicleSpeed": round(max(0.0, speed), 1),
                "occupancy": round(max(0.0, occupancy), 3),
                "laneDirection": "forward" if device.id[-1] in "13579" else "backward"}

    def _streetlight(self, idx: int, device: Device, t: float) -> dict[str, Any]:
        rated = device.rated_w or 100.0
        night = self.env.sun_elevation(t) < DUSK_ELEVATION_DEG + self.dusk_offset[idx]
        hour, _ = _local_hour(t)
        state = ("low" if hour < 4.5 else "on") if night else "off"
        if device.id in self.day_burners and not night:
            state = "on"
        dark_from = self.dark.get(device.circuit or "")
        if night and dark_from is not None and t >= dark_from:
            state = "off"  # the cabinet's breaker tripped: no lamp of the circuit draws power
        level = {"on": 1.0, "low": 0.55, "off": 0.0}[state]
        power = max(0.0, rated * level * (1 + 0.015 * self.rng.gauss(0, 1)))
        self.energy[idx] += power * device.interval_s / 3.6e6
        voltage = 220.0 + 3.0 * self.rng.gauss(0, 1)
        return {"dateObserved": iso_local(t), "seq": self.seq[idx], "powerState": state,
                "powerConsumption": round(power, 1),
                "lifetimePowerConsumption": round(self.energy[idx], 3),
                "voltage": round(voltage, 1), "current": round(power / (voltage * 0.95), 3),
                "illuminanceLevel": level}

    def _drainage(self, idx: int, device: Device, t: float) -> dict[str, Any]:
        self.battery[idx] = max(0.0, self.battery[idx] - _BATTERY_DRAIN)
        doc: dict[str, Any] = {"dateObserved": iso_local(t), "seq": self.seq[idx],
                               "batteryLevel": round(self.battery[idx], 4)}
        if device.id.startswith("rg-"):
            self.bucket[idx] += self.env.rain_mm_h(device.ward, t) * device.interval_s / 3600
            tips = int(self.bucket[idx] / _TIP_MM)
            self.bucket[idx] -= tips * _TIP_MM
            doc["precipitation"] = round(tips * _TIP_MM, 1)
            return doc
        depth = device.depth_m or 1.0
        frac = level_fraction(self.base[idx], self.env.wetness(device.ward), self.factor[idx])
        level = depth * frac + 0.004 * self.rng.gauss(0, 1)
        doc["waterLevel"] = round(level, 3)
        doc["flow"] = round(0.35 * max(0.0, level) ** 1.5, 3)
        return doc

