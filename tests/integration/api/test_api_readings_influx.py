"""GET /devices/{id}/readings against a real InfluxDB bucket (InfluxQL over /query)."""

from __future__ import annotations

from datetime import timedelta

import requests
from influxdb_client import InfluxDBClient, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS

from ioc.core.settings import Settings
from ioc.testing.influx import ScopedBucket
from tests.integration.api.api_helpers import T0, Served


def _write(bucket: ScopedBucket, lines: list[str]) -> None:
    s = bucket.settings
    with InfluxDBClient(url=s.influx_url, token=s.influx_token_for("write"),
                        org=s.influx_org) as client:
        client.write_api(write_options=SYNCHRONOUS).write(
            bucket=bucket.name, record=lines, write_precision=WritePrecision.S)


def test_readings_come_back_newest_first_within_the_window(
        influx_service: Settings, served_api: Served) -> None:
    dev, t = served_api.device_id, int(T0.timestamp())
    _write(served_api.bucket, [
        f"drainage,device={dev},ward=tan-phu,domain=drainage waterLevel=0.5 {t}",
        f"drainage,device={dev},ward=tan-phu,domain=drainage waterLevel=0.75 {t + 60}",
        f"drainage,device={dev},ward=tan-phu,domain=drainage waterLevel=1.25,"
        f"precipitation=3.5 {t + 120}",
        f"drainage,device={dev},ward=tan-phu waterLevel=9.0 {t - 7200}",  # outside the window
        f"drainage,device=other-{dev},ward=tan-phu waterLevel=5.0 {t + 60}",  # another device
        f"traffic,device={dev} intensity=3i {t + 60}",  # another measurement
    ])
    params: dict[str, str | int] = {"since": (T0 - timedelta(minutes=1)).isoformat(),
              "until": (T0 + timedelta(minutes=5)).isoformat()}
    resp = requests.get(f"{served_api.url}/api/v1/devices/{dev}/readings", params=params,
                        headers=served_api.headers("view"), timeout=10)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["count"] == 3 and body["measurement"] == "drainage"
    assert [r["waterLevel"] for r in body["data"]] == [1.25, 0.75, 0.5]
    assert body["data"][0]["precipitation"] == 3.5 and body["data"][0]["device"] == dev
    limited = requests.get(f"{served_api.url}/api/v1/devices/{dev}/readings",
                           params={**params, "limit": 1}, headers=served_api.headers("view"),
                           timeout=10).json()
    assert [r["waterLevel"] for r in limited["data"]] == [1.25]


def test_injection_attempts_never_reach_influxdb(influx_service: Settings,
                                                 served_api: Served) -> None:
    url = f"{served_api.url}/api/v1/devices/x'%20OR%20'1'='1/readings"
    resp = requests.get(url, headers=served_api.headers("view"), timeout=10)
    assert resp.status_code == 422
