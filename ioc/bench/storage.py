"""Storage throughput: Kafka → InfluxSink → InfluxDB beside writing the same lines directly."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import requests
from kafka import KafkaProducer

from ioc.bench.trials import PROBLEMS
from ioc.core.errors import ServiceError
from ioc.core.kafka_auth import kafka_access
from ioc.core.schemas import Reading, reading_to_json
from ioc.core.settings import Settings
from ioc.storage.influx_client import InfluxLineSink
from ioc.storage.influx_sink import InfluxSink
from ioc.storage.influx_writer import InfluxWriter
from ioc.storage.rdkafka_source import RdKafkaSource, consumer_config
from ioc.testing.factories import at, drain, lamp, mixed_fleet, traffic
from ioc.testing.influx import scoped_bucket

__all__ = ["run_storage_bench"]


def _readings(n: int, devices: int) -> list[Reading]:
    fleet = mixed_fleet(["tan-phu"], max(1, devices // 3), prefix="sb-")
    out: list[Reading] = []
    for i in range(n):
        dev, t = fleet[i % len(fleet)], at(i // len(fleet) * 60.0)
        out.append(drain(dev, t, 0.3) if dev.domain == "drainage"
                   else traffic(dev, t, 40.0, 0.2) if dev.domain == "traffic"
                   else lamp(dev, t, "on", 95.0))
    return out


def _direct(settings: Settings, readings: list[Reading], batch: int) -> float:
    sink = InfluxLineSink.from_settings(settings)
    writer = InfluxWriter(sink)
    try:
        start = time.perf_counter()
        for i in range(0, len(readings), batch):
            writer.write_readings(readings[i:i + batch])
        return len(readings) / (time.perf_counter() - start)
    finally:
        sink.close()


def _through_kafka(settings: Settings, readings: list[Reading],
                   timeout_s: float) -> tuple[float, float]:
    """Readings/s through the sink, and its CPU µs per reading."""
    topic = f"bench-{uuid.uuid4().hex[:8]}-telemetry"
    producer = KafkaProducer(**kafka_access(settings).client_options(), linger_ms=5,
                             batch_size=256 * 1024)
    for r in readings:
        producer.send(topic, key=r.device_id.encode(), value=reading_to_json(r))
    producer.flush()
    producer.close()
    source = RdKafkaSource(consumer_config(kafka_access(settings), f"{topic}-writer"))
    line_sink = InfluxLineSink.from_settings(settings)
    sink = InfluxSink(source, InfluxWriter(line_sink), telemetry=topic, alerts=f"{topic}-a")
    try:
        start, cpu = time.perf_counter(), time.process_time()
        deadline = time.monotonic() + timeout_s
        while sink.counts["readings"] < len(readings) and time.monotonic() < deadline:
            sink.run_once(timeout_ms=200)
        stored = max(sink.counts["readings"], 1)
        # the whole process: the client's own threads (librdkafka's) count too
        return (sink.counts["readings"] / (time.perf_counter() - start),
                (time.process_time() - cpu) / stored * 1e6)
    finally:
        sink.close()
        line_sink.close()


# one field every point of a domain's measurement carries
_COUNTED = {"drainage": "waterLevel", "traffic": "intensity", "streetlight": "powerConsumption"}


def stored_points(settings: Settings) -> int:
    """Points of the three reading measurements in the settings' bucket (InfluxQL count)."""
    query = "; ".join(f'SELECT count("{f}") FROM "{m}"' for m, f in _COUNTED.items())
    response = requests.get(f"{settings.influx_url}/query", timeout=120, params={
        "db": settings.influx_bucket, "q": query},
        headers={"Authorization": f"Token {settings.influx_token_for('read')}"})
    if response.status_code != 200:
        raise ServiceError(f"InfluxDB count failed: HTTP {response.status_code}")
    return sum(int(series["values"][0][1]) for result in response.json()["results"]
               for series in result.get("series", []))


def _check(label: str, stored: int, n: int) -> list[str]:
    if stored < n:
        return [f"{label}: {n - stored} of {n} readings not in InfluxDB"]
    return [f"{label}: {stored - n} points more than readings"] if stored > n else []


def run_storage_bench(settings: Settings, n: int = 50_000, devices: int = 600,
                      progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Readings/s stored through Kafka and the sink, and written straight to InfluxDB."""
    say = progress or (lambda text: None)
    readings = _readings(n, devices)
    with scoped_bucket(settings, "bench") as direct_bucket, \
            scoped_bucket(settings, "bench") as sink_bucket:
        say(f"baseline: {n} readings straight to InfluxDB…")
        direct = _direct(direct_bucket.settings, readings, 5000)
        say(f"sink: {n} readings Kafka → InfluxSink → InfluxDB…")
        via_kafka, sink_cpu_us = _through_kafka(sink_bucket.settings, readings, 300.0)
        in_direct = stored_points(direct_bucket.settings)
        in_sink = stored_points(sink_bucket.settings)
    return {"readings": n, "stored_by_sink": in_sink, "stored_by_baseline": in_direct,
            "sink_readings_per_s": round(via_kafka),
            "baseline_direct_write_readings_per_s": round(direct),
            "sink_cpu_us_per_reading": round(sink_cpu_us, 1),
            "ratio_to_baseline": round(via_kafka / direct, 3),
            PROBLEMS: _check("sink", in_sink, n) + _check("baseline", in_direct, n)}
