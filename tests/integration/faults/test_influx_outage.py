"""InfluxDB SIGKILLed for 3 minutes mid-stream (far past the writer's retries): detection
goes on, the storage consumer holds its batch without committing, and afterwards every
reading is in InfluxDB exactly once."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from ioc.core.kafka_auth import kafka_access
from ioc.core.settings import Settings
from ioc.devstack import influxdb
from ioc.devstack.faults import killed
from ioc.testing.kafka_groups import GroupLag
from tests.integration.faults.fault_helpers import exactly_once, expected_points, stored_points
from tests.integration.processors.proc_helpers import (
    AlertLog,
    Bucket,
    Flood,
    WorkerProcess,
    await_consumed,
    caught_up,
    produce,
)

OUTAGE_S = 180.0
FIRST = 4000  # readings before the outage; the flood's first alert comes at ~5,800

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _points(bucket: Bucket) -> int:
    return sum(stored_points(bucket.scoped.settings, bucket.name).values())


def test_influxdb_killed_for_three_minutes_loses_nothing_and_detection_goes_on(
        kafka_service: Settings, influx_bucket: Bucket, flood: Flood,
        worker_process: Callable[..., WorkerProcess], alert_log: Callable[[str], AlertLog],
        eventually: Callable[..., None]) -> None:
    first, rest = flood.readings[:FIRST], flood.readings[FIRST:]
    worker = worker_process(bucket=influx_bucket)
    worker.start()
    alerts = alert_log(worker.topics.alerts)
    storage = f"{worker.prefix}ioc-influx-writer"
    produce(kafka_service, worker.topics.telemetry, first)
    eventually(lambda: _points(influx_bucket) > 0, timeout=90, interval=0.5,
               what="the first readings in InfluxDB")

    with killed("influxdb") as outage:
        produce(kafka_service, worker.topics.telemetry, rest)
        eventually(lambda: "holding" in worker.log(20_000), timeout=60, interval=0.5,
                   what="the storage consumer to hold its batch")
        # detection does not wait for storage: the whole flood is judged during the outage
        await_consumed(kafka_service, worker, eventually, worker.topics.telemetry,
                       timeout=OUTAGE_S)
        eventually(lambda: {a.subject for a in alerts.poll() if a.rule == "flood.localized"}
                   >= flood.flooded, timeout=60, what="flood.localized during the outage")
        assert influxdb.health(influx_bucket.scoped.settings.influx_url) is None
        _hold_without_commits(kafka_service, worker, storage, outage.killed_at + OUTAGE_S)
        outage.restart()

    expected = expected_points(flood.readings)
    eventually(lambda: not worker.alive() or (
        caught_up(kafka_service, storage, [worker.topics.telemetry, worker.topics.alerts])
        and not exactly_once(stored_points(influx_bucket.scoped.settings, influx_bucket.name),
                             expected)),
        timeout=240, interval=2.0, what="every reading stored once after the outage")
    assert worker.alive(), worker.log()
    assert exactly_once(stored_points(influx_bucket.scoped.settings, influx_bucket.name),
                        expected) == ""
    assert "InfluxDB is back" in worker.log(200_000)


def _hold_without_commits(settings: Settings, worker: WorkerProcess, group: str,
                          until: float) -> None:
    """Until `until` (monotonic), check every second that the worker lives and the storage
    group commits nothing: no offset may pass records that are not stored."""
    lag = GroupLag(kafka_access(settings), group,
                   [worker.topics.telemetry, worker.topics.alerts])
    try:
        held = lag.committed()
        while time.monotonic() < until:
            assert worker.alive(), worker.log()
            assert lag.committed() == held, "the storage group committed during the outage"
            time.sleep(1.0)  # the outage's length is the point of the test, not a sync
    finally:
        lag.close()
