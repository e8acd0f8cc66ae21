"""Throw-away InfluxDB buckets (with DBRP mappings): a hand-made slice of the city with known
values, and the simulator's normal-day and flash-flood scenarios as the pipeline stores them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ioc.core.registry import Registry, load_registry
from ioc.core.settings import Settings
from ioc.dashboards.influxql import InfluxQLClient
from ioc.storage.influx_client import InfluxLineSink
from ioc.storage.influx_writer import InfluxWriter
from ioc.testing.influx import ScopedBucket, scoped_bucket
from tests.integration.dashboards.dash_city import CityBucket, city_data
from tests.integration.dashboards.dash_scenarios import ScenarioBucket, scenario_data

REGISTRY = Path(__file__).parents[3] / "deploy" / "registry" / "devices.yaml"


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry(REGISTRY)


@pytest.fixture(scope="session")
def city_bucket(influx_service: Settings, registry: Registry) -> Iterator[CityBucket]:
    """A unique bucket mapped as database `<bucket>`, written by the production writer."""
    with scoped_bucket(influx_service, "test-dash") as bucket:
        yield from _filled(bucket, registry)


def _filled(bucket: ScopedBucket, registry: Registry) -> Iterator[CityBucket]:
    """Write the city's slice through the production writer (write-only token), then hand
    the bucket over with a client holding its read-only token."""
    s, name = bucket.settings, bucket.name
    sink = InfluxLineSink.from_settings(s)
    client = InfluxQLClient(s.influx_url, s.influx_token_for("read"), name)
    try:
        data = city_data(registry)
        writer = InfluxWriter(sink, registry)
        assert writer.write_readings(data.readings) == len(data.readings)
        assert writer.write_alerts(data.alerts) == len(data.alerts)
        yield CityBucket(name, client, data, registry, bucket.env())
    finally:
        client.close()
        sink.close()


@pytest.fixture(scope="session")
def scenario_bucket(influx_service: Settings, registry: Registry) -> Iterator[ScenarioBucket]:
    """A unique bucket holding normal-day and flash-flood, written by the production writer."""
    with scoped_bucket(influx_service, "test-dash-sim") as bucket:
        s, name = bucket.settings, bucket.name
        sink = InfluxLineSink.from_settings(s)
        client = InfluxQLClient(s.influx_url, s.influx_token_for("read"), name)
        try:
            data = scenario_data(registry)
            writer = InfluxWriter(sink, registry)
            for start in range(0, len(data.readings), 5000):
                chunk = data.readings[start:start + 5000]
                assert writer.write_readings(chunk) == len(chunk)
            assert writer.write_alerts(data.alerts) == len(data.alerts)
            yield ScenarioBucket(name, client, data, registry, bucket.env())
        finally:
            client.close()
            sink.close()
