"""The console's routes against real InfluxDB and Kafka: latest states, panel series, rates."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from influxdb_client import InfluxDBClient, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS
from kafka import KafkaProducer

from ioc.api.main import create_app
from ioc.api.topic_rates import KafkaTopicRates
from ioc.core.kafka_admin import ensure_topics
from ioc.core.kafka_auth import kafka_access
from ioc.core.registry import Device, Registry
from ioc.core.settings import Settings
from ioc.testing.influx import ScopedBucket
from tests.integration.api.api_helpers import login, running, seeded_users

_PLACE = {"ward": "tan-phu", "lat": 11.53, "lon": 106.88, "interval_s": 60}
DEVICES = [
    Device(id="dr-a", domain="drainage", name="Cống A", basin="b", depth_m=2, warn_m=1.2,
           critical_m=1.6, **_PLACE),  # type: ignore[arg-type]
    Device(id="tr-a", domain="traffic", name="QL14 A", road="ql14", direction="northbound",
           free_flow_kmh=70, **_PLACE),  # type: ignore[arg-type]
    Device(id="sl-a", domain="streetlight", name="Đèn A", circuit="c1", rated_w=150,
           **_PLACE),  # type: ignore[arg-type]
    Device(id="sl-b", domain="streetlight", name="Đèn B", circuit="c1", rated_w=150,
           **_PLACE),  # type: ignore[arg-type]
]


def _lines(now: int) -> list[str]:
    return [
        f"drainage,device=dr-a,ward=tan-phu,basin=b waterLevel=1.0 {now - 240}",
        f"drainage,device=dr-a,ward=tan-phu,basin=b waterLevel=1.7 {now - 60}",
        f"traffic,device=tr-a,ward=tan-phu,road=ql14 averageVehicleSpeed=50.0 {now - 120}",
        f"traffic,device=tr-a,ward=tan-phu,road=ql14 averageVehicleSpeed=20.0 {now - 60}",
        f"streetlight,device=sl-a,ward=tan-phu,circuit=c1 on=true,powerConsumption=100.0 "
        f"{now - 60}",
        f"streetlight,device=sl-b,ward=tan-phu,circuit=c1 on=false,powerConsumption=0.0 "
        f"{now - 60}",
    ]


@pytest.fixture
def console_api(influx_bucket: ScopedBucket, kafka_service: Settings,
                tmp_path: Path) -> Iterator[tuple[str, int]]:
    """The real app (InfluxDB reader, Kafka rates) over four devices with known readings;
    yields its URL and the whole minute the readings lead up to."""
    now = int(time.time()) // 60 * 60  # a whole minute: bucket edges are predictable
    s = influx_bucket.settings
    with InfluxDBClient(url=s.influx_url, token=s.influx_token_for("write"),
                        org=s.influx_org) as client:
        client.write_api(write_options=SYNCHRONOUS).write(
            bucket=influx_bucket.name, record=_lines(now), write_precision=WritePrecision.S)
    app = create_app(s, registry=Registry(DEVICES), users=seeded_users(tmp_path / "u.json"))
    with running(app) as url:
        yield url, now


def _get(url: str, path: str, **params: str) -> dict[str, Any]:
    resp = requests.get(f"{url}/api/v1{path}", params=params, timeout=20,
                        headers={"Authorization": f"Bearer {login(url, 'view')}"})
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_states_and_panels_from_real_influxdb(console_api: tuple[str, int]) -> None:
    url, now = console_api
    states = {d["id"]: d for d in _get(url, "/device-states")["data"]}
    assert (states["dr-a"]["state"], states["dr-a"]["values"]["waterLevel"]) == ("critical", 1.7)
    assert states["tr-a"]["state"] == "warning"  # 20 km/h < 0.4 × 70
    assert states["sl-a"]["values"]["on"] is True and states["sl-b"]["values"]["on"] is False
    window = {"since": datetime.fromtimestamp(now - 3600, UTC).isoformat(),
              "until": datetime.fromtimestamp(now, UTC).isoformat()}
    [drain] = _get(url, "/panels/drainage", **window)["series"]
    assert (drain["key"], drain["critical"]) == ("tan-phu", 1.6)
    assert [v for _, v in drain["points"]] == [1.0, 1.7]
    traffic = {s["key"]: s for s in _get(url, "/panels/traffic", **window)["series"]}
    assert [v for _, v in traffic["ql14"]["points"]] == [50.0, 20.0]
    assert traffic["dt741"]["points"] == []
    lighting = _get(url, "/panels/lighting", **window)
    [c1] = lighting["series"]
    assert [v for _, v in c1["points"]] == [100.0]  # the circuit's lamps summed
    assert (c1["facts"]["lampsOn"], c1["facts"]["lamps"]) == (1, 2)


def test_topic_rates_from_real_kafka_offsets(kafka_service: Settings,
                                             unique_topic: str) -> None:
    access = kafka_access(kafka_service)
    ensure_topics(access, [unique_topic], 3)
    start = datetime.now(UTC)
    producer = KafkaProducer(**access.client_options(), acks="all")
    try:
        for n in range(30):
            producer.send(unique_topic, key=str(n).encode(), value=b"x")
        producer.flush(timeout=30)
    finally:
        producer.close()
    rates = KafkaTopicRates(lambda: access)
    try:
        got = rates.rates(unique_topic, start - timedelta(minutes=5),
                          datetime.now(UTC) + timedelta(seconds=1), 10)
        assert round(sum(v for _, v in got) * 10) == 30
        before = rates.rates(unique_topic, start - timedelta(hours=1),
                             start - timedelta(minutes=10), 60)
        assert before and all(v == 0 for _, v in before)
        assert all(v == 0 for _, v in rates.rates(f"{unique_topic}-absent", start,
                                                   datetime.now(UTC), 10))
    finally:
        rates.close()
