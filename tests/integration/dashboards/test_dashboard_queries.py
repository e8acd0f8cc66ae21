"""Every dashboard query, run with InfluxQL against data the production writer stored."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ioc.core.schemas import SEVERITY_RANK, Alert, Reading, StreetlightReading
from ioc.dashboards.catalog import all_dashboards
from ioc.dashboards.queries import NOW_WINDOW
from ioc.dashboards.query_check import CheckResult, check_dashboards, iter_queries, render
from tests.integration.dashboards.dash_city import CityBucket
from tests.integration.dashboards.dash_scenarios import ScenarioBucket, ScenarioData

NOW_SPAN = timedelta(minutes=15)  # NOW_WINDOW's span ("now" panels), checked below
CHECK_SPAN = timedelta(hours=6)  # query_check.render's default $timeFilter, checked below


def test_now_span_is_the_dashboards_now_window() -> None:
    assert f"time > now() - {int(NOW_SPAN.total_seconds() // 60)}m" == NOW_WINDOW
    assert render("$timeFilter", {}) == f"time >= now() - {CHECK_SPAN.seconds // 3600}h"


@pytest.fixture(scope="module")
def boards(city_bucket: CityBucket) -> list[dict[str, Any]]:
    return [d.to_json() for d in all_dashboards(city_bucket.registry)]


@pytest.fixture(scope="module")
def results(scenario_bucket: ScenarioBucket) -> list[CheckResult]:
    """Every query over the simulator's normal-day and flash-flood, as the pipeline stored them."""
    boards = [d.to_json() for d in all_dashboards(scenario_bucket.registry)]
    return check_dashboards(boards, scenario_bucket.influxql)


def _query(boards: list[dict[str, Any]], uid: str, title_start: str) -> str:
    board = next(b for b in boards if b["uid"] == uid)
    return next(q.query for q in iter_queries(board) if q.source.startswith(title_start))


def _all(board: dict[str, Any], **values: str) -> dict[str, str]:
    return {v["name"]: ".*" for v in board["templating"]["list"]} | values


def test_every_panel_and_variable_query_runs_and_returns_data(
        results: list[CheckResult], scenario_bucket: ScenarioBucket) -> None:
    assert len(results) > 40
    failed = [(r.query.dashboard, r.query.source, r.error) for r in results if r.error]
    assert failed == []
    empty = [r for r in results if not r.rows]
    unexplained = [(r.query.dashboard, r.query.source) for r in empty
                   if not _nothing_to_show(r.rendered, scenario_bucket.data)]
    assert unexplained == []
    # four alert panels of domains the scenarios never alert on; lamps lit now at night only,
    # lamps lit at all only when the check's 6 h reach back into the night
    readings = scenario_bucket.data.readings
    dark = sum(not lit for lit in (_lamps_lit_at_end(readings, NOW_SPAN),
                                   _lamps_lit_within(readings, CHECK_SPAN)))
    assert len(empty) <= 4 + dark, [r.query.source for r in empty]


def _nothing_to_show(query: str, data: ScenarioData) -> bool:
    """Whether the scenarios hold nothing for this query: alerts of a domain they never
    raise (normal-day and flash-flood have no traffic or lighting faults), a severity
    band no alert ends up open in, or lamps lit now when the feed ends in daylight."""
    alerts = data.alerts
    if '"on" = true' in query:
        if NOW_WINDOW in query:
            return not _lamps_lit_at_end(data.readings, NOW_SPAN)
        return not _lamps_lit_within(data.readings, CHECK_SPAN)
    rule = re.search(r'"rule" =~ /\^(\w+)\\\./', query)
    if rule:
        return not any(a.rule.startswith(f"{rule.group(1)}.") for a in alerts)
    band = re.search(r'"rank" (<=|=) (\d)', query)
    if band:
        latest: dict[str, Alert] = {}
        for a in sorted(alerts, key=lambda a: a.version):
            latest[a.id] = a
        ranks = {SEVERITY_RANK[a.severity] for a in latest.values() if a.status != "resolved"}
        wanted = int(band.group(2))
        return not any(r <= wanted if band.group(1) == "<=" else r == wanted for r in ranks)
    return False


def _lamps_lit_at_end(readings: tuple[Reading, ...], window: timedelta) -> bool:
    """Whether any lamp's latest reading in the feed's final `window` has it lit (the
    feed ends at the wall clock, so in Vietnam's daytime every lamp is off)."""
    end = max(r.observed_at for r in readings)
    latest: dict[str, StreetlightReading] = {}
    for r in readings:
        if isinstance(r, StreetlightReading) and r.observed_at > end - window:
            latest[r.device_id] = r
    return any(r.power_state != "off" for r in latest.values())


def _lamps_lit_within(readings: tuple[Reading, ...], window: timedelta) -> bool:
    """Whether any lamp reading in the feed's final `window` has it lit: a daytime run whose
    window holds no night has nothing to count per interval."""
    end = max(r.observed_at for r in readings)
    return any(isinstance(r, StreetlightReading) and r.power_state != "off"
               and r.observed_at > end - window for r in readings)


def test_open_alerts_count_each_alerts_latest_state(city_bucket: CityBucket,
                                                     boards: list[dict[str, Any]]) -> None:
    overview = next(b for b in boards if b["uid"] == "ioc-overview")
    panel = next(p for p in overview["panels"] if p["title"].startswith("Cảnh báo đang mở"))
    counts = {t["alias"]: city_bucket.influxql(render(t["query"], {"ward": ".*"}))[0]
              ["values"][0][1] for t in panel["targets"]}
    # alert-1 escalated high -> critical counts once, as critical; alert-2 is resolved
    assert counts == city_bucket.data.open_by_severity


def test_current_alerts_table_shows_each_unresolved_alert_once(
        city_bucket: CityBucket, boards: list[dict[str, Any]]) -> None:
    q = _query(boards, "ioc-overview", "Cảnh báo hiện tại")
    series = city_bucket.influxql(render(q, {"ward": ".*"}))
    rows = [dict(zip(s["columns"], v, strict=True)) for s in series for v in s["values"]]
    assert sorted((r["id"], r["severity"], r["status"]) for r in rows) == [
        ("alert-1", "critical", "open"), ("alert-3", "medium", "open"),
        ("alert-4", "high", "acknowledged"), ("alert-5", "low", "open")]


def test_ward_variable_filters_the_water_level_panel(city_bucket: CityBucket,
                                                     boards: list[dict[str, Any]]) -> None:
    drainage = next(b for b in boards if b["uid"] == "ioc-drainage")
    q = _query(boards, "ioc-drainage", "Mực nước theo cảm biến")
    wards = city_bucket.data.drainage_by_ward
    level_sensors = {w: {d for d in ids if d.startswith("dr-")} for w, ids in wards.items()}
    # Grafana escapes regex characters of selected values and joins several as (a|b)
    one = city_bucket.influxql(render(q, _all(drainage, ward=r"tan\-dong")))
    assert {s["tags"]["device"] for s in one} == level_sensors["tan-dong"]
    both = city_bucket.influxql(render(q, _all(drainage, ward=r"(tan\-phu|tan\-dong)")))
    assert {s["tags"]["device"] for s in both} == level_sensors["tan-phu"] | level_sensors[
        "tan-dong"]


def test_device_variable_is_chained_on_ward(city_bucket: CityBucket,
                                            boards: list[dict[str, Any]]) -> None:
    drainage = next(b for b in boards if b["uid"] == "ioc-drainage")
    q = next(q.query for q in iter_queries(drainage) if q.source == "variable device")
    series = city_bucket.influxql(render(q, _all(drainage, ward="tan-phu")))
    assert {v[1] for v in series[0]["values"]} == set(city_bucket.data.drainage_by_ward[
        "tan-phu"])


def test_lamps_on_now_per_circuit(city_bucket: CityBucket,
                                  boards: list[dict[str, Any]]) -> None:
    lights = next(b for b in boards if b["uid"] == "ioc-streetlights")
    q = _query(boards, "ioc-streetlights", "Đèn đang sáng")
    series = city_bucket.influxql(render(q, _all(lights)))
    assert {s["tags"]["circuit"]: s["values"][0][1] for s in series} == \
        city_bucket.data.lamps_on


def test_speed_vs_free_flow_is_a_percentage_of_the_registry_speed(
        city_bucket: CityBucket, boards: list[dict[str, Any]]) -> None:
    traffic = next(b for b in boards if b["uid"] == "ioc-traffic")
    panel = next(p for p in traffic["panels"] if "free-flow" in p["title"])
    by_road = {t["alias"]: t["query"] for t in panel["targets"]}
    values = [v[1] for s in city_bucket.influxql(render(by_road["ql14"], _all(traffic)))
              for v in s["values"] if v[1] is not None]
    assert values and all(70 < v < 90 for v in values)  # ~55 km/h of a 70 km/h road
    slow = [v[1] for s in city_bucket.influxql(render(by_road["dt741"], _all(traffic)))
            for v in s["values"] if v[1] is not None]
    assert slow and max(slow) < 40  # the congested road, under the congestion fraction


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_publish_without_grafana_exits_nonzero_without_a_traceback() -> None:
    ioc = Path(sys.executable).with_name("ioc")
    env = {**os.environ, "IOC_GRAFANA_TOKEN": "not-a-real-token"}
    url = f"http://127.0.0.1:{_closed_port()}"
    done = subprocess.run([str(ioc), "dashboards", "publish", "--url", url], env=env,
                          capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).parents[3])
    assert done.returncode == 1
    assert f"Grafana at {url} is unreachable" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_dashboards_check_runs_every_query_with_the_read_only_token(
        scenario_bucket: ScenarioBucket) -> None:
    ioc = Path(sys.executable).with_name("ioc")
    # the operator token is made unusable: the command must get by on the read-only one
    env = {**os.environ, **scenario_bucket.env, "IOC_INFLUX_TOKEN": "not-a-real-token"}
    done = subprocess.run([str(ioc), "dashboards", "check"], env=env,
                          capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).parents[3])
    assert done.returncode == 0, done.stdout + done.stderr
    ran = [line for line in done.stdout.splitlines() if line.startswith("ok ")]
    assert len(ran) > 40 and "FAIL" not in done.stdout
    assert done.stdout.rstrip().endswith(f"all {len(ran)} queries ran")
