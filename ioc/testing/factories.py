"""Small factories of devices and readings for tests and the benchmark (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ioc.core.contract import parse_telemetry
from ioc.core.registry import Device, Registry
from ioc.core.schemas import DrainageReading, Reading, StreetlightReading, TrafficReading

__all__ = ["T0", "ScenarioFeed", "at", "drain", "drainage_device", "lamp", "lamp_device",
           "mixed_fleet", "registry", "scenario_feed", "traffic", "traffic_device"]

# 2025-06-02 03:00 UTC = 10:00 in Đồng Xoài (broad daylight)
T0 = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)


def at(seconds: float, base: datetime = T0) -> datetime:
    """A time `seconds` after `base`."""
    return base + timedelta(seconds=seconds)


def drainage_device(dev_id: str = "drn-1", ward: str = "tan-phu", **kw: object) -> Device:
    """A drainage sensor: warn 0.6 m, critical 0.9 m, depth 1.2 m, 60 s interval."""
    facts = {"basin": "b1", "depth_m": 1.2, "warn_m": 0.6, "critical_m": 0.9,
             "interval_s": 60.0, **kw}
    return Device(id=dev_id, domain="drainage", name=f"Cống {dev_id}", ward=ward,
                  lat=11.53, lon=106.88, **facts)  # type: ignore[arg-type]


def traffic_device(dev_id: str = "trf-1", ward: str = "tan-phu") -> Device:
    """A traffic counter on QL14 with 50 km/h free flow, 60 s interval."""
    return Device(id=dev_id, domain="traffic", name=f"Đếm xe {dev_id}", ward=ward, lat=11.53,
                  lon=106.88, interval_s=60, road="QL14", direction="N", free_flow_kmh=50)


def lamp_device(dev_id: str = "lamp-1", circuit: str = "c1", ward: str = "tan-phu") -> Device:
    """A 100 W streetlight on a circuit, 300 s interval."""
    return Device(id=dev_id, domain="streetlight", name=f"Đèn {dev_id}", ward=ward, lat=11.53,
                  lon=106.88, interval_s=300, circuit=circuit, rated_w=100)


def mixed_fleet(wards: Iterable[str], per_ward: int, prefix: str = "") -> list[Device]:
    """Drainage, traffic and lamp devices interleaved, `per_ward` of each in every ward;
    five lamps share a circuit."""
    out: list[Device] = []
    for ward in wards:
        for i in range(per_ward):
            out.append(drainage_device(f"{prefix}d-{ward}-{i}", ward=ward))
            out.append(traffic_device(f"{prefix}t-{ward}-{i}", ward=ward))
            out.append(lamp_device(f"{prefix}l-{ward}-{i}", circuit=f"{prefix}c-{ward}-{i // 5}",
                                   ward=ward))
    return out


def registry(*devices: Device) -> Registry:
    """A registry of these devices."""
    return Registry(devices)


def drain(dev: Device | str, t: datetime, level: float | None,
          rain: float | None = None) -> DrainageReading:
    """A drainage reading."""
    dev_id = dev if isinstance(dev, str) else dev.id
    return DrainageReading(device_id=dev_id, observed_at=t, received_at=t,
                           water_level_m=level, precipitation_mm=rain)


def traffic(dev: Device | str, t: datetime, speed: float, occupancy: float,
            intensity: int = 20) -> TrafficReading:
    """A traffic reading."""
    dev_id = dev if isinstance(dev, str) else dev.id
    return TrafficReading(device_id=dev_id, observed_at=t, received_at=t, intensity=intensity,
                          average_speed_kmh=speed, occupancy=occupancy)


def lamp(dev: Device | str, t: datetime, state: str, watts: float) -> StreetlightReading:
    """A streetlight reading."""
    dev_id = dev if isinstance(dev, str) else dev.id
    return StreetlightReading(device_id=dev_id, observed_at=t, received_at=t,
                              power_state=state, power_w=watts)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class ScenarioFeed:
    """A simulator scenario as normalized readings, with its catalog and plan."""

    catalog: list[Device]
    readings: list[Reading]
    plan: Any  # sensors_sim.scenarios.Plan (the simulator is imported lazily)


def scenario_feed(name: str = "flash-flood", seed: int = 7,
                  start: datetime = datetime(2025, 6, 2, 6, 0, tzinfo=UTC),
                  duration_s: float | None = None) -> ScenarioFeed:
    """Run a simulator scenario and validate its telemetry as the bridge would (no I/O)."""
    from ioc.sensors_sim.catalog import generate_catalog
    from ioc.sensors_sim.generator import generate
    from ioc.sensors_sim.scenarios import get_scenario

    catalog = generate_catalog()
    scenario = get_scenario(name)
    duration = duration_s or scenario.default_duration_s
    reg = Registry(catalog)
    readings = [parse_telemetry(m.topic, m.payload, m.sim_time, reg)
                for m in generate(catalog, scenario, seed, start, duration)
                if m.topic.endswith("/telemetry")]
    return ScenarioFeed(catalog, readings, scenario.plan(catalog, start.timestamp(), duration,
                                                         seed))
