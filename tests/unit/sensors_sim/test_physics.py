"""Shapes an operator would see on a chart: rush hours, dusk/dawn, rain-driven drains."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from ioc.core.city import CITY_LAT, CITY_LON, TZ
from ioc.core.registry import Device
from ioc.sensors_sim.generator import generate
from ioc.sensors_sim.physics import Storm, solar_elevation_deg
from ioc.sensors_sim.scenarios import get_scenario
from ioc.sensors_sim.storms import FLOODED_WARDS

DAY = datetime(2025, 6, 16, 0, 0, tzinfo=TZ)  # a Monday


def _series(catalog: list[Device], scenario: str, start: datetime, hours: float,
            prefix: str) -> dict[str, list[tuple[datetime, dict]]]:
    series: dict[str, list[tuple[datetime, dict]]] = defaultdict(list)
    for m in generate(catalog, get_scenario(scenario), 2, start, hours * 3600):
        device = m.topic.split("/")[3]
        if device.startswith(prefix):
            local = m.sim_time.astimezone(TZ)
            series[device].append((local, orjson.loads(m.payload)))
    return series


@pytest.fixture(scope="module")
def normal_day(catalog: list[Device]) -> dict[str, list[tuple[datetime, dict]]]:
    return _series(catalog, "normal-day", DAY, 24, "")


@pytest.fixture(scope="module")
def traffic_day(normal_day: dict) -> dict[str, list[tuple[datetime, dict]]]:
    return {k: v for k, v in normal_day.items() if k.startswith("tr-")}


def _volume(series: dict[str, list[tuple[datetime, dict]]], hour: int) -> int:
    return sum(doc["intensity"] for points in series.values()
               for when, doc in points if when.hour == hour)


def test_rush_hours_beat_the_night(traffic_day: dict) -> None:
    night, morning, evening = _volume(traffic_day, 2), _volume(traffic_day, 7), \
        _volume(traffic_day, 17)
    midday = _volume(traffic_day, 11)
    assert evening > 4 * night and morning > 4 * night
    assert evening > midday and morning > midday


def test_speed_falls_as_volume_rises(traffic_day: dict) -> None:
    points = traffic_day["tr-ql14-003"]
    night = [doc["averageVehicleSpeed"] for when, doc in points if when.hour == 2]
    rush = [doc["averageVehicleSpeed"] for when, doc in points if when.hour == 17]
    assert sum(rush) / len(rush) < 0.85 * sum(night) / len(night)


def test_lamps_on_at_night_off_at_noon(normal_day: dict) -> None:
    lamps = {k: v for k, v in normal_day.items() if k.startswith("sl-")}
    assert lamps
    for device, points in lamps.items():
        at_22 = [doc for when, doc in points if when.hour == 22]
        at_12 = [doc for when, doc in points if when.hour == 12]
        assert all(d["powerState"] == "on" and d["powerConsumption"] > 0 for d in at_22), device
        assert all(d["powerState"] == "off" and d["powerConsumption"] == 0 for d in at_12)
        meter = [doc["lifetimePowerConsumption"] for _, doc in points]
        assert meter == sorted(meter) and meter[-1] > meter[0]


def test_lamps_switch_near_sunset() -> None:
    sunset = datetime(2025, 6, 16, 18, 16, tzinfo=TZ).timestamp()  # from astral
    assert solar_elevation_deg(sunset - 1800, CITY_LAT, CITY_LON) > 0
    assert abs(solar_elevation_deg(sunset, CITY_LAT, CITY_LON) + 0.8) < 0.6


@pytest.fixture(scope="module")
def flood(catalog: list[Device]) -> dict[str, list[tuple[datetime, dict]]]:
    start = datetime(2025, 6, 16, 14, 0, tzinfo=TZ)
    return _series(catalog, "flash-flood", start, 3, "")


def test_drain_level_peaks_after_the_rain_and_recedes(flood: dict) -> None:
    rain = [(when, doc["precipitation"]) for when, doc in flood["rg-tan-phu"]]
    rain_peak = max(rain, key=lambda p: p[1])[0]
    level = [(when, doc["waterLevel"]) for when, doc in flood["dr-tan-phu-b1-01"]]
    level_peak_time, level_peak = max(level, key=lambda p: p[1])
    before = [v for when, v in level if when < rain[0][0] + timedelta(minutes=10)]
    assert level_peak_time > rain_peak
    assert level_peak > 3 * max(before)
    assert level[-1][1] < level_peak  # receding by the end


def test_flash_flood_is_local(flood: dict, catalog: list[Device]) -> None:
    by_id = {d.id: d for d in catalog}
    peaks = {device: max(doc["waterLevel"] for _, doc in points)
             for device, points in flood.items() if device.startswith("dr-")}
    for ward in FLOODED_WARDS:
        ward_peaks = [(by_id[d], p) for d, p in peaks.items() if by_id[d].ward == ward]
        assert sum(p > (d.warn_m or 0) for d, p in ward_peaks) >= 2
        assert any(p > (d.critical_m or 0) for d, p in ward_peaks)
    for device, peak in peaks.items():
        if by_id[device].ward not in FLOODED_WARDS:
            assert peak < (by_id[device].warn_m or 0), device


def test_required_flood_expectations_hold(flood: dict, catalog: list[Device]) -> None:
    start = datetime(2025, 6, 16, 14, 0, tzinfo=TZ)
    plan = get_scenario("flash-flood").plan(catalog, start.timestamp(), 3 * 3600, 2)
    by_id = {d.id: d for d in catalog}
    for alert in plan.expected:
        if alert.rule == "flood.level" and alert.required:
            peak = max(doc["waterLevel"] for _, doc in flood[alert.subject])
            assert peak > (by_id[alert.subject].warn_m or 0), alert.subject


def test_ql14_incident_stops_one_segment(catalog: list[Device]) -> None:
    start = datetime(2025, 6, 16, 9, 0, tzinfo=TZ)
    series = _series(catalog, "ql14-incident", start, 2, "tr-ql14-")
    plan = get_scenario("ql14-incident").plan(catalog, start.timestamp(), 7200, 2)
    stopped = {a.subject for a in plan.expected}
    assert len(stopped) == 2
    mid = start + timedelta(minutes=45)
    for device, points in series.items():
        during = [doc for when, doc in points if abs((when - mid).total_seconds()) < 600]
        slow = all(d["averageVehicleSpeed"] < 5 and d["occupancy"] > 0.8 for d in during)
        assert slow == (device in stopped), device


def test_lighting_fault_dark_circuit_and_day_burner(catalog: list[Device]) -> None:
    start = datetime(2025, 6, 16, 10, 0, tzinfo=TZ)
    plan = get_scenario("lighting-fault").plan(catalog, start.timestamp(), 86400, 2)
    circuit = next(a.subject for a in plan.expected if a.rule == "streetlight.circuit_outage")
    burner = next(a.subject for a in plan.expected if a.rule == "streetlight.day_burning")
    series = _series(catalog, "lighting-fault", start, 14, "sl-")
    for device, points in series.items():
        night = [doc for when, doc in points if when.hour == 22]
        noon = [doc for when, doc in points if when.hour == 12]
        dark = device.startswith(f"sl-{circuit}-")
        assert all((d["powerConsumption"] == 0) == dark for d in night), device
        assert all((d["powerState"] == "on") == (device == burner) for d in noon), device


def test_storm_curve_rises_peaks_and_stops() -> None:
    storm = Storm(frozenset({"tan-phu"}), 0, 1800, 7200, 90.0)
    assert storm.intensity(-1) == 0 and storm.intensity(7200) == 0
    assert storm.intensity(1800) == pytest.approx(90.0)
    assert storm.intensity(900) < 90 and storm.intensity(4000) < 90
    assert datetime.fromtimestamp(0, UTC).year == 1970
