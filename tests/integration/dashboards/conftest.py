"""A throw-away InfluxDB bucket (with a DBRP mapping) holding a slice of the city."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ioc.core.registry import Registry, load_registry
from ioc.core.settings import Settings
from ioc.dashboards.influxql import InfluxQLClient
from ioc.storage.influx_client import InfluxLineSink
from ioc.storage.influx_writer import InfluxWriter
from ioc.testing.influx import mapped_bucket
from tests.integration.dashboards.dash_city import CityBucket, city_data

REGISTRY = Path(__file__).parents[3] / "deploy" / "registry" / "devices.yaml"


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry(REGISTRY)


@pytest.fixture(scope="session")
def city_bucket(influx_service: Settings, registry: Registry) -> Iterator[CityBucket]:
    """A unique bucket mapped as database `<bucket>`, written by the production writer."""
    with mapped_bucket(influx_service, "test-dash") as name:
        yield from _filled(influx_service, name, registry)


def _filled(s: Settings, name: str, registry: Registry) -> Iterator[CityBucket]:
    """Write the city's slice through the production writer, then hand the bucket over."""
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
