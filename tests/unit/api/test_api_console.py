"""The console's routes over fakes: the city map, device states, panels; roles and 4xx."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ioc.api.influx_reader import QueryError, Series
from tests.unit.api.api_fakes import T0, Api, make_alert

MS = int(T0.timestamp() * 1000)


def _latest(q: str) -> list[Series]:
    """Newest rows as InfluxDB would answer the latest-per-device queries."""
    if 'FROM "drainage"' in q and "LIMIT 1" in q:
        return [({"device": "dr-001"}, [{"time": MS - 30_000, "waterLevel": 1.7, "flow": 0.4,
                                         "ward": "tan-phu"}])]
    if 'FROM "traffic"' in q and "LIMIT 1" in q:  # last heard 10 min ago: 3 intervals = 3 min
        return [({"device": "tr-001"}, [{"time": MS - 600_000, "averageVehicleSpeed": 20.0}])]
    return []


def test_city_map_has_the_eight_wards_and_both_main_roads(api: Api) -> None:
    assert api.client.get("/api/v1/city").status_code == 401
    body = api.client.get("/api/v1/city", headers=api.auth("view")).json()
    assert body["wards"]["type"] == "FeatureCollection"
    assert len(body["wards"]["features"]) == 8
    assert {"ql14", "dt741"} <= {r["slug"] for r in body["roads"]}


def test_device_states_by_thresholds_silence_and_open_alerts(api: Api) -> None:
    api.reader.series_for = _latest
    api.view.apply(make_alert(9).model_copy(update={"subject": "dr-001", "id": "a-dr"}))
    resp = api.client.get("/api/v1/device-states", headers=api.auth("view"))
    assert resp.status_code == 200, resp.text
    states = {d["id"]: d for d in resp.json()["data"]}
    assert states.keys() == {"dr-001", "tr-001", "sl-001"}  # every registry device
    drain = states["dr-001"]
    assert (drain["state"], drain["alert_id"]) == ("critical", "a-dr")  # 1.7 m ≥ 1.6 m
    assert drain["values"] == {"waterLevel": 1.7, "flow": 0.4}  # tags left out
    assert states["tr-001"]["state"] == "silent"
    assert states["sl-001"]["state"] == "silent" and states["sl-001"]["observed_at"] is None


def test_device_states_need_a_login_and_hide_backend_errors(api: Api) -> None:
    assert api.client.get("/api/v1/device-states").status_code == 401
    api.reader.fail = QueryError("InfluxDB: secret internals")
    resp = api.client.get("/api/v1/device-states", headers=api.auth("view"))
    assert resp.status_code == 503 and "internals" not in resp.text


def _drain_series(q: str) -> list[Series]:
    if 'max("waterLevel")' in q:
        return [({"device": "dr-001"}, [{"time": MS - 60_000, "v": 1.0},
                                        {"time": MS, "v": 1.3}]),
                ({"device": "ghost"}, [{"time": MS, "v": 9.0}])]  # not registered: left out
    return []


def test_drainage_panel_draws_each_ward_against_its_drain_lines(api: Api) -> None:
    api.reader.series_for = _drain_series
    resp = api.client.get("/api/v1/panels/drainage", headers=api.auth("view"))
    assert resp.status_code == 200, resp.text
    [series] = resp.json()["series"]
    assert (series["key"], series["warn"], series["critical"]) == ("tan-phu", 1.2, 1.6)
    assert series["points"] == [[MS - 60_000, 1.0], [MS, 1.3]]


def test_traffic_panel_has_free_flow_from_the_registry(api: Api) -> None:
    body = api.client.get("/api/v1/panels/traffic", headers=api.auth("view")).json()
    assert [(s["key"], s["reference"]) for s in body["series"]] == [("ql14", 70.0),
                                                                    ("dt741", None)]


def test_lighting_panel_counts_lamps_on_and_energy(api: Api) -> None:
    def rows(q: str) -> list[Series]:
        if 'sum("p")' in q:
            return [({"circuit": "c1"}, [{"time": MS, "v": 3600.0}])]
        if "LIMIT 1" in q:
            return [({"device": "sl-001"}, [{"time": MS, "on": True, "circuit": "c1"}])]
        return []
    api.reader.series_for = rows
    since, until = T0 - timedelta(hours=1), T0
    body = api.client.get("/api/v1/panels/lighting", headers=api.auth("view"),
                          params={"since": since.isoformat(), "until": until.isoformat()}).json()
    [c1] = body["series"]
    step = body["step_s"]  # 3600 W for one bucket of `step` seconds
    assert c1["facts"] == {"energyKwh": round(3600 * step / 3.6e6, 3), "lampsOn": 1, "lamps": 1}


def test_pipeline_panel_counts_the_apps_topics(api: Api) -> None:
    api.rates.per_s = {"ioc.telemetry": 12.5, "ioc.deadletter": 0.5}
    body = api.client.get("/api/v1/panels/pipeline", headers=api.auth("view")).json()
    rates = {s["key"]: {v for _, v in s["points"]} for s in body["series"]}
    assert rates == {"readings": {12.5}, "deadletters": {0.5}}
    assert len(next(iter(body["series"]))["points"]) <= 61


@pytest.mark.parametrize("params", [
    {"since": "2026-06-01T03:00:00+00:00", "until": "2026-05-01T03:00:00+00:00"},
    {"since": "2025-01-01T00:00:00+00:00"},  # longer than the maximum span
    {"since": "2026-06-01T03:00:00"},  # no offset
    {"until": "9999-01-01T00:00:00+00:00"},
    {"until": "-1.192092896e-07"},  # pydantic alone reads numbers as Unix seconds
    {"since": "1700000000"},
])
def test_panel_windows_are_checked(api: Api, params: dict[str, Any]) -> None:
    resp = api.client.get("/api/v1/panels/traffic", headers=api.auth("view"), params=params)
    assert resp.status_code == 422, resp.text
    assert api.reader.queries == []  # nothing reached InfluxDB


def test_unknown_panel_is_422(api: Api) -> None:
    resp = api.client.get("/api/v1/panels/secrets", headers=api.auth("view"))
    assert resp.status_code == 422


@pytest.mark.parametrize("path", ["/api/v1/panels/traffic", "/api/v1/devices/dr-001/readings"])
def test_a_repeated_time_parameter_is_refused_not_silently_dropped(api: Api, path: str) -> None:
    resp = api.client.get(f"{path}?until=2026-06-01T02:00:00%2B00:00&until=3.9e-53",
                          headers=api.auth("view"))
    assert resp.status_code == 422 and "once" in resp.json()["detail"]
    assert api.reader.queries == [] and api.reader.calls == []
