"""Readings through `ioc worker` into a real InfluxDB: idempotent, alerts stored.

The InfluxDB outage (a SIGKILL held for 3 minutes) is in tests/integration/faults."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ioc.core.schemas import DrainageReading, Reading, StreetlightReading, TrafficReading
from ioc.core.settings import Settings
from ioc.testing import processes
from tests.integration.processors.proc_helpers import (
    AlertLog,
    Bucket,
    Flood,
    WorkerProcess,
    assert_flood_detected,
    await_consumed,
    caught_up,
    produce,
)

# (measurement, field) pairs and which readings carry that field
FIELDS: tuple[tuple[str, str, Callable[[Reading], bool]], ...] = (
    ("traffic", "intensity", lambda r: isinstance(r, TrafficReading)),
    ("streetlight", "powerConsumption", lambda r: isinstance(r, StreetlightReading)),
    ("drainage", "waterLevel",
     lambda r: isinstance(r, DrainageReading) and r.water_level_m is not None),
    ("drainage", "precipitation",
     lambda r: isinstance(r, DrainageReading) and r.precipitation_mm is not None),
)


def _expected(readings: Sequence[Reading]) -> dict[tuple[str, str], int]:
    distinct = {(r.device_id, r.observed_at): r for r in readings}.values()
    return {(m, f): sum(1 for r in distinct if has(r)) for m, f, has in FIELDS}


def _stored(bucket: Bucket) -> dict[tuple[str, str], int]:
    return {(m, f): bucket.count(m, f) for m, f, _ in FIELDS}


def _wait_stored(bucket: Bucket, worker: WorkerProcess, settings: Settings,
                 expected: dict[tuple[str, str], int], eventually: Callable[..., None],
                 timeout: float = 90) -> None:
    group = f"{worker.prefix}ioc-influx-writer"
    eventually(lambda: not worker.alive() or (
        caught_up(settings, group, [worker.topics.telemetry]) and _stored(bucket) == expected),
        timeout=timeout, interval=0.5, what="every reading stored")
    assert worker.alive(), worker.log()


def test_each_reading_is_stored_once_even_when_sent_twice(
        kafka_service: Settings, influx_bucket: Bucket, flood: Flood,
        worker_process: Callable[..., WorkerProcess], eventually: Callable[..., None]) -> None:
    readings = flood.readings[: len(flood.readings) // 3]  # the first hour
    expected = _expected(readings)
    worker = worker_process(bucket=influx_bucket)
    worker.start()
    assert produce(kafka_service, worker.topics.telemetry, readings, times=2) \
        == 2 * len(readings)
    _wait_stored(influx_bucket, worker, kafka_service, expected, eventually)
    assert sum(expected.values()) >= len(readings)


def _stored_alert_ids(bucket: Bucket) -> set[str]:
    return {row[1] for series in bucket.influxql('SELECT "id" FROM "alerts"')
            for row in series["values"]}


def test_worker_stores_alerts_with_its_write_only_token(
        kafka_service: Settings, influx_bucket: Bucket, flood: Flood,
        worker_process: Callable[..., WorkerProcess], alert_log: Callable[[str], AlertLog],
        eventually: Callable[..., None]) -> None:
    worker = worker_process(bucket=influx_bucket)  # holds only the bucket's write token
    worker.start()
    produce(kafka_service, worker.topics.telemetry, flood.readings)
    log = alert_log(worker.topics.alerts)
    await_consumed(kafka_service, worker, eventually)
    assert_flood_detected(log, flood, eventually)
    group = f"{worker.prefix}ioc-influx-writer"

    def all_stored() -> bool:
        published = {a.id for a in log.poll()}
        return not worker.alive() or (
            caught_up(kafka_service, group, [worker.topics.alerts])
            and _stored_alert_ids(influx_bucket) == published)

    eventually(all_stored, timeout=120, interval=0.5, what="every published alert stored")
    assert worker.alive(), worker.log()
    assert {"flood.level", "flood.localized"} <= {a.rule for a in log.poll()}


def test_a_token_that_may_not_write_stops_the_worker_loudly(
        kafka_service: Settings, influx_bucket: Bucket, flood: Flood, prefix: str,
        tmp_path: Path, eventually: Callable[..., None]) -> None:
    env = influx_bucket.scoped.env()
    env["IOC_INFLUX_WRITE_TOKEN"] = env["IOC_INFLUX_READ_TOKEN"]  # wrong scope: HTTP 403
    worker = processes.WorkerProcess(prefix, flood.registry_file, tmp_path / "worker.log",
                                     bucket=influx_bucket.name, env=env)
    worker.start()
    try:
        produce(kafka_service, worker.topics.telemetry, flood.readings[:50])
        eventually(lambda: not worker.alive(), timeout=120, interval=0.5,
                   what="the worker to stop instead of retrying a refused write forever")
        assert worker.proc.returncode not in (0, None)
        assert "InfluxDB refused the write (HTTP 403" in worker.log(20_000)
        assert "IOC_INFLUX_WRITE_TOKEN" in worker.log(20_000)
    finally:
        worker.stop()
