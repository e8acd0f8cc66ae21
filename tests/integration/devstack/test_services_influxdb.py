"""InfluxDB as `ioc services up` runs it: v2 write API, then InfluxQL read of the point."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import requests
from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS

from ioc.core.settings import Settings


def _influxql(settings: Settings, query: str) -> dict[str, Any]:
    response = requests.get(f"{settings.influx_url}/query",
                            params={"db": settings.influx_bucket, "q": query},
                            headers={"Authorization":
                                     f"Token {settings.influx_token.get_secret_value()}"},
                            timeout=10)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def test_written_point_is_readable_with_influxql(influx_service: Settings,
                                                 eventually: Callable[..., None]) -> None:
    settings = influx_service
    device = f"test-{uuid.uuid4().hex[:10]}"
    now_ns = time.time_ns()
    point = (Point("test_services").tag("device_id", device).field("level_m", 1.25)
             .time(now_ns, WritePrecision.NS))
    with InfluxDBClient(url=settings.influx_url, org=settings.influx_org,
                        token=settings.influx_token.get_secret_value()) as client:
        client.write_api(write_options=SYNCHRONOUS).write(bucket=settings.influx_bucket,
                                                          record=point)

    query = f"SELECT level_m, device_id FROM test_services WHERE device_id = '{device}'"
    rows: list[list[Any]] = []

    def found() -> bool:
        series = _influxql(settings, query)["results"][0].get("series", [])
        rows[:] = series[0]["values"] if series else []
        return bool(rows)

    eventually(found, timeout=10, what="the point via InfluxQL")
    assert len(rows) == 1
    assert rows[0][1] == 1.25 and rows[0][2] == device
