"""A throw-away InfluxDB bucket (with a DBRP mapping) holding a slice of the city."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from dash_city import CityData, city_data

from dashboards.influxql import InfluxQLClient
from ioc.registry import Registry, load_registry
from ioc.settings import Settings
from processors.influx_client import InfluxLineSink
from processors.influx_writer import InfluxWriter

REGISTRY = Path(__file__).parents[3] / "deploy" / "registry" / "devices.yaml"


@dataclass(frozen=True)
class CityBucket:
    """The bucket's name (also its InfluxQL database), a client for it, and what it holds."""

    name: str
    influxql: InfluxQLClient
    data: CityData
    registry: Registry


def _api(settings: Settings, method: str, path: str, **kwargs: object) -> requests.Response:
    headers = {"Authorization": f"Token {settings.influx_token.get_secret_value()}"}
    response = requests.request(method, f"{settings.influx_url}{path}", headers=headers,
                                timeout=10, **kwargs)  # type: ignore[arg-type]
    response.raise_for_status()
    return response


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry(REGISTRY)


@pytest.fixture(scope="session")
def city_bucket(influx_service: Settings, registry: Registry) -> Iterator[CityBucket]:
    """A unique bucket mapped as database `<bucket>`, written by the production writer."""
    s = influx_service
    name = f"test-dash-{uuid.uuid4().hex[:10]}"
    org_id = _api(s, "GET", "/api/v2/orgs", params={"org": s.influx_org}).json()["orgs"][0]["id"]
    bucket = _api(s, "POST", "/api/v2/buckets", json={
        "name": name, "orgID": org_id, "retentionRules": []}).json()
    dbrp = _api(s, "POST", "/api/v2/dbrps", json={
        "bucketID": bucket["id"], "orgID": org_id, "database": name,
        "retention_policy": "autogen", "default": True}).json()
    sink = InfluxLineSink.from_settings(s, bucket=name)
    client = InfluxQLClient(s.influx_url, s.influx_token.get_secret_value(), name)
    try:
        data = city_data(registry)
        writer = InfluxWriter(sink, registry)
        assert writer.write_readings(data.readings) == len(data.readings)
        assert writer.write_alerts(data.alerts) == len(data.alerts)
        yield CityBucket(name, client, data, registry)
    finally:
        client.close()
        sink.close()
        _api(s, "DELETE", f"/api/v2/dbrps/{dbrp.get('content', dbrp)['id']}",
             params={"orgID": org_id})
        _api(s, "DELETE", f"/api/v2/buckets/{bucket['id']}")
