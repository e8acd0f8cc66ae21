"""Traffic and streetlight rules, including day/night boundaries and circuit outages."""

from __future__ import annotations

from datetime import UTC, date, datetime

from ioc.processors.detector import Detector
from ioc.processors.rules.base import RuleSettings
from ioc.processors.rules.sun import TZ, phase, sun_times
from ioc.testing.factories import at, lamp, lamp_device, registry, traffic, traffic_device

S = RuleSettings()


def test_congestion_needs_minutes_of_slow_dense_traffic() -> None:
    det = Detector(registry(traffic_device("t1")))
    out = []
    for i in range(5):  # 4 minutes of 15 km/h (< 0.4 * 50) at occupancy 0.5
        out += det.process(traffic("t1", at(i * 60), 15, 0.5))
    assert out == []
    opened = det.process(traffic("t1", at(300), 15, 0.5))
    assert [(a.rule, a.severity) for a in opened] == [("traffic.congestion", "medium")]
    # slow but empty road (night) is not congestion; 21 km/h is inside the margin: stays open
    assert det.process(traffic("t1", at(360), 21, 0.5)) == []
    closed = []
    for i in range(7, 13):
        closed += det.process(traffic("t1", at(i * 60), 45, 0.1))
    assert [(a.id, a.status) for a in closed] == [(opened[0].id, "resolved")]


def test_slow_empty_road_is_not_congested() -> None:
    det = Detector(registry(traffic_device("t1")))
    out = [a for i in range(20) for a in det.process(traffic("t1", at(i * 60), 10, 0.05, 1))]
    assert out == []


def test_stopped_traffic_on_one_segment() -> None:
    det = Detector(registry(traffic_device("t1"), traffic_device("t2")))
    out = []
    for i in range(3):
        out += det.process(traffic("t1", at(i * 60), 2, 0.9))
        out += det.process(traffic("t2", at(i * 60 + 1), 45, 0.2))
    stopped = [a for a in out if a.rule == "traffic.stopped"]
    assert [(a.subject, a.severity) for a in stopped] == [("t1", "high")]


def test_phase_boundaries_in_ho_chi_minh_time() -> None:
    rise, fall = sun_times(date(2025, 6, 2))
    local_rise = datetime.fromtimestamp(rise, TZ)
    assert local_rise.date() == date(2025, 6, 2) and 5 <= local_rise.hour < 6
    assert 18 <= datetime.fromtimestamp(fall, TZ).hour < 19
    g = S.sun_grace_s
    assert phase(rise + g, g) == "day" and phase(rise + g - 1, g) == "twilight"
    assert phase(rise - g, g) == "night" and phase(rise - g + 1, g) == "twilight"
    assert phase(fall - g, g) == "day" and phase(fall + g, g) == "night"
    # 00:30 local on 2 June is still 1 June in UTC: must use the local day's sun times
    assert phase(datetime(2025, 6, 1, 17, 30, tzinfo=UTC).timestamp(), g) == "night"
    assert phase(datetime(2025, 6, 2, 5, 0, tzinfo=UTC).timestamp(), g) == "day"  # 12:00


def test_day_burning_opens_after_hold_in_daylight_only() -> None:
    det = Detector(registry(lamp_device("l1")))
    rise, _ = sun_times(date(2025, 6, 2))
    start = datetime.fromtimestamp(rise + S.sun_grace_s - 300, UTC)  # twilight
    out = []
    for i in range(6):
        out += det.process(lamp("l1", at(i * 300, start), "on", 100))
    burning = [a for a in out if a.rule == "streetlight.day_burning"]
    # day starts at i=1 (t=0 relative to day); opens at lamp_open_s (600 s) later, i=3
    assert len(burning) == 1
    assert burning[0].date_issued == at(900, start) and burning[0].severity == "low"


def _night() -> datetime:
    _, fall = sun_times(date(2025, 6, 2))
    return datetime.fromtimestamp(fall + 2 * 3600, UTC)


def test_single_lamp_outage_is_not_a_circuit_outage() -> None:
    lamps = [lamp_device(f"l{i}") for i in range(5)]
    det = Detector(registry(*lamps))
    night, out = _night(), []
    for step in range(4):
        for i in range(5):
            state, watts = ("off", 0.0) if i == 0 else ("on", 98.0)
            out += det.process(lamp(f"l{i}", at(step * 300 + i, night), state, watts))
    assert [(a.rule, a.subject) for a in out] == [("streetlight.outage", "l0")]


def test_circuit_outage_raises_one_alert_not_one_per_lamp() -> None:
    lamps = [lamp_device(f"l{i}") for i in range(5)] + [lamp_device("x", circuit="c2")]
    det = Detector(registry(*lamps))
    night, out = _night(), []
    for step in range(4):
        for i in range(5):
            out += det.process(lamp(f"l{i}", at(step * 300 + i, night), "off", 0.0))
        out += det.process(lamp("x", at(step * 300 + 9, night), "on", 100.0))
    assert [(a.rule, a.subject, a.severity) for a in out] == [
        ("streetlight.circuit_outage", "c1", "high")]
    assert out[0].data["failingLamps"] == ["l0", "l1", "l2"]  # opened at 3 of 5 = 60 %


def test_overpower_far_above_rated() -> None:
    det = Detector(registry(lamp_device("l1")))
    night = _night()
    out = [a for i in range(4) for a in det.process(lamp("l1", at(i * 300, night), "on", 180))]
    assert [a.rule for a in out] == ["streetlight.overpower"]
