"""A small, realistic slice of the city written through the production InfluxDB writer."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ioc.core.registry import Registry
from ioc.core.schemas import Alert, DrainageReading, Reading, StreetlightReading, TrafficReading
from ioc.dashboards.influxql import InfluxQLClient

__all__ = ["CityBucket", "CityData", "city_data"]

STEP = timedelta(minutes=2)
STEPS = 45  # 90 minutes of history, the last reading a minute ago
TRAFFIC = ("tr-ql14-001", "tr-ql14-002")  # free-flowing
CONGESTED_ROAD = "dt741"
LAMPS_OFF = 1  # lamps of the first circuit that are dark (an outage)


@dataclass(frozen=True)
class CityData:
    """What was written and what the dashboards should therefore show."""

    readings: tuple[Reading, ...]
    alerts: tuple[Alert, ...]
    drainage_by_ward: dict[str, tuple[str, ...]]
    lamps_on: dict[str, int]
    open_by_severity: dict[str, int]


def _times(now: datetime) -> list[datetime]:
    return [now - timedelta(minutes=1) - STEP * k for k in range(STEPS)][::-1]


def _traffic(registry: Registry, now: datetime) -> list[Reading]:
    slow = [d.id for d in registry if d.domain == "traffic" and d.road == CONGESTED_ROAD][:2]
    # one counter on every other road, so each road's panel series has data
    first_of_road = {d.road: d.id for d in reversed(list(registry)) if d.domain == "traffic"}
    others = [i for road, i in first_of_road.items() if road not in ("ql14", CONGESTED_ROAD)]
    out: list[Reading] = []
    for device_id in (*TRAFFIC, *slow, *others):
        device = registry.get(device_id)
        assert device is not None
        for i, t in enumerate(_times(now)):
            speed = 14.0 if device_id in slow else 55.0 + 3 * math.sin(i / 5)
            out.append(TrafficReading(device_id=device_id, ward=device.ward, observed_at=t,
                                      received_at=t, seq=i, intensity=20 + i % 7,
                                      average_speed_kmh=speed,
                                      occupancy=0.6 if device_id in slow else 0.15))
    return out


def _lamps(registry: Registry, now: datetime) -> tuple[list[Reading], dict[str, int]]:
    out: list[Reading] = []
    lit: dict[str, int] = {}
    for circuit in ("tan-phu-c01", "tan-phu-c02"):
        lamps = [d for d in registry if d.circuit == circuit][:3]
        lit[circuit] = len(lamps) - (LAMPS_OFF if circuit.endswith("c01") else 0)
        for n, lamp in enumerate(lamps):
            dark = circuit.endswith("c01") and n < LAMPS_OFF
            rated = lamp.rated_w or 100.0
            for i, t in enumerate(_times(now)):
                power = 0.0 if dark else rated
                out.append(StreetlightReading(
                    device_id=lamp.id, ward=lamp.ward, observed_at=t, received_at=t, seq=i,
                    power_state="off" if dark else "on", power_w=power,
                    energy_kwh=round(100 + i * rated * STEP.total_seconds() / 3.6e6, 4),
                    voltage_v=221.0, current_a=power / 221.0, illuminance=0.0 if dark else 1.0))
    return out, lit


def _drainage(registry: Registry,
              now: datetime) -> tuple[list[Reading], dict[str, tuple[str, ...]]]:
    out: list[Reading] = []
    wards: dict[str, tuple[str, ...]] = {}
    for ward, count in (("tan-phu", 3), ("tan-dong", 1)):
        sensors = [d for d in registry.in_ward(ward, "drainage") if d.id.startswith("dr-")]
        chosen = (*[d.id for d in sensors[:count]], f"rg-{ward}")
        wards[ward] = chosen
        for device_id in chosen:
            device = registry.get(device_id)
            assert device is not None
            for i, t in enumerate(_times(now)):
                if device_id.startswith("rg-"):
                    out.append(DrainageReading(device_id=device_id, ward=ward, observed_at=t,
                                               received_at=t, seq=i, precipitation_mm=1.5))
                    continue
                level = (device.warn_m or 0.5) * (0.3 + 0.9 * i / STEPS)  # rising past warn
                out.append(DrainageReading(device_id=device_id, ward=ward, observed_at=t,
                                           received_at=t, seq=i, water_level_m=round(level, 3),
                                           flow_m3s=round(0.35 * level ** 1.5, 3),
                                           battery_level=0.9))
    return out, wards


def _alert(n: int, rule: str, subject: str, ward: str, severity: str, status: str,
           version: int, issued: datetime, modified: datetime) -> Alert:
    return Alert(id=f"alert-{n}", rule=rule, subject=subject, category=rule.split(".")[0],
                 sub_category=rule.split(".")[1], severity=severity,  # type: ignore[arg-type]
                 status=status, ward=ward, alert_source=subject,  # type: ignore[arg-type]
                 description=f"{rule} tại {subject}", date_issued=issued,
                 date_modified=modified, version=version)


def _alerts(now: datetime, flood_sensor: str, slow_counter: str, lamp: str) -> list[Alert]:
    t0 = now - timedelta(minutes=40)
    return [
        _alert(1, "flood.level", flood_sensor, "tan-phu", "high", "open", 1, t0, t0),
        _alert(1, "flood.level", flood_sensor, "tan-phu", "critical", "open", 2, t0,
               now - timedelta(minutes=10)),
        _alert(2, "flood.level", "dr-tan-dong-x", "tan-dong", "high", "open", 1, t0, t0),
        _alert(2, "flood.level", "dr-tan-dong-x", "tan-dong", "high", "resolved", 2, t0,
               now - timedelta(minutes=5)),
        _alert(3, "traffic.congestion", slow_counter, "tien-thanh", "medium", "open", 1, t0, t0),
        _alert(4, "streetlight.outage", lamp, "tan-phu", "high", "open", 1, t0, t0),
        _alert(4, "streetlight.outage", lamp, "tan-phu", "high", "acknowledged", 2, t0,
               now - timedelta(minutes=3)),
        _alert(5, "device.silent", "rg-tan-dong", "tan-dong", "low", "open", 1, t0, t0),
    ]


def city_data(registry: Registry, now: datetime | None = None) -> CityData:
    """Readings of a few devices per domain over 90 minutes, and alerts with a history."""
    now = now or datetime.now(UTC)
    lamps, lit = _lamps(registry, now)
    drains, wards = _drainage(registry, now)
    traffic = _traffic(registry, now)
    slow = next(r.device_id for r in traffic if isinstance(r, TrafficReading)
                and r.average_speed_kmh < 20)
    alerts = _alerts(now, wards["tan-phu"][0], slow, lamps[0].device_id)
    return CityData(tuple(traffic + lamps + drains), tuple(alerts), wards, lit,
                    {"critical": 1, "high": 1, "medium": 1, "low": 1})


@dataclass(frozen=True)
class CityBucket:
    """The bucket's name (also its InfluxQL database), a client for it, and what it holds.

    The client reads with the bucket's read-only token; `env` hands that token (and the
    bucket) to a child process such as `ioc dashboards check`.
    """

    name: str
    influxql: InfluxQLClient
    data: CityData
    registry: Registry
    env: dict[str, str]
