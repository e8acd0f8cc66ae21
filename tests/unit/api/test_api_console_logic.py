"""Pure parts of the console's API: map states, InfluxQL builders, rates from offsets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ioc.api import panel_queries as q
from ioc.api.device_states import device_state, open_alerts_by_subject, reading_state
from ioc.api.topic_rates import rates_from_offsets
from ioc.core.registry import Device
from tests.unit.api.api_fakes import make_alert

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
DRAIN = Device(id="dr-1", domain="drainage", name="d", ward="tan-phu", lat=11.53, lon=106.88,
               interval_s=60, basin="b", depth_m=2, warn_m=1.2, critical_m=1.6)
ROAD = Device(id="tr-1", domain="traffic", name="t", ward="tan-phu", lat=11.53, lon=106.88,
              interval_s=60, road="ql14", direction="northbound", free_flow_kmh=70)


@pytest.mark.parametrize(("level", "state"), [
    (1.19, "normal"), (1.2, "warning"), (1.59, "warning"), (1.6, "critical")])
def test_drain_state_by_its_own_lines(level: float, state: str) -> None:
    assert reading_state(DRAIN, {"waterLevel": level}) == state


@pytest.mark.parametrize(("speed", "state"), [
    (70.0, "normal"), (28.0, "normal"), (27.9, "warning"), (7.0, "critical")])
def test_road_state_by_the_workers_fractions_of_free_flow(speed: float, state: str) -> None:
    assert reading_state(ROAD, {"averageVehicleSpeed": speed}) == state


def test_silent_after_three_reporting_intervals() -> None:
    fresh = device_state(DRAIN, NOW - timedelta(seconds=179), {"waterLevel": 2.0}, NOW, None)
    stale = device_state(DRAIN, NOW - timedelta(seconds=180), {"waterLevel": 2.0}, NOW, None)
    assert (fresh.state, stale.state) == ("critical", "silent")


def test_the_most_severe_unresolved_alert_marks_a_device() -> None:
    high = make_alert(1, severity="high").model_copy(update={"subject": "dr-1"})
    crit = make_alert(2, severity="critical").model_copy(update={"subject": "dr-1"})
    done = make_alert(3, severity="critical", status="resolved").model_copy(
        update={"subject": "dr-2"})
    marked = open_alerts_by_subject([high, crit, done])
    assert marked.keys() == {"dr-1"} and marked["dr-1"].id == crit.id


def test_queries_quote_their_times_and_only_name_known_measurements() -> None:
    since, until = NOW - timedelta(hours=3), NOW
    assert q.latest_query("drainage", since, until) == (
        "SELECT * FROM \"drainage\" WHERE time >= '2026-06-01T00:00:00.000000Z' AND "
        "time <= '2026-06-01T03:00:00.000000Z' GROUP BY \"device\" ORDER BY time DESC LIMIT 1")
    with pytest.raises(ValueError, match="unknown measurement"):
        q.latest_query('drainage" ; DROP', since, until)
    assert "GROUP BY time(60s)" in q.traffic_query(since, until, 60)
    assert "\"road\" = 'ql14' OR \"road\" = 'dt741'" in q.traffic_query(since, until, 60)


@pytest.mark.parametrize(("span", "step"), [
    (timedelta(minutes=15), 10), (timedelta(hours=3), 60), (timedelta(days=1), 600),
    (timedelta(days=31), 21600)])
def test_buckets_stay_under_the_point_budget(span: timedelta, step: int) -> None:
    assert q.step_for(NOW - span, NOW) == step
    assert span.total_seconds() / step <= q.MAX_POINTS


def test_rates_are_offset_differences_per_second() -> None:
    assert rates_from_offsets([0, 60_000], [100, 160, 160], 60) == [(0, 1.0), (60_000, 0.0)]
    # a topic recreated between two reads never shows a negative rate
    assert rates_from_offsets([0], [50, 10], 10) == [(0, 0.0)]
