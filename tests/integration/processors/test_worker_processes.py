"""`ioc worker --processes 2` against real Kafka: the two members split the partitions and
together publish exactly the alerts one worker process publishes for the same feed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from ioc.core.kafka_auth import kafka_access
from ioc.core.settings import Settings
from ioc.processors.worker.topics import ensure_worker_topics, partition_counts
from tests.integration.processors.failover_helpers import Stream, assert_like_backtest
from tests.integration.processors.proc_helpers import (
    AlertLog,
    Flood,
    WorkerProcess,
    await_consumed,
)


def _versions(log: AlertLog) -> Counter[tuple[str, int, str, str]]:
    return Counter((a.id, a.version, a.status, a.severity) for a in log.poll())


def test_two_worker_processes_split_partitions_and_publish_the_alerts_of_one(
        kafka_service: Settings, flood: Flood, alert_log: Callable[[str], AlertLog],
        eventually: Callable[..., None], tmp_path: Path) -> None:
    solo = WorkerProcess("test-solo-" + tmp_path.name[-12:] + ".", flood, tmp_path,
                         name="solo")
    pair = WorkerProcess("test-pair-" + tmp_path.name[-12:] + ".", flood, tmp_path,
                         name="pair", processes=2)
    kafka = kafka_access(kafka_service)
    try:
        for w in (solo, pair):
            ensure_worker_topics(kafka, w.topics, kafka_service.kafka_partitions)
            w.start()
        parts = partition_counts(kafka, [pair.topics.telemetry])[pair.topics.telemetry]
        eventually(lambda: pair.settled(parts) or not pair.alive(), timeout=120, interval=0.5,
                   what="both member processes to hold partitions")
        assert pair.settled(parts) and len(pair.assignments()) == 2, pair.log()
        streams = [Stream(kafka_service, w.topics.telemetry, flood, parts, (), 1.0)
                   for w in (solo, pair)]
        for s in streams:
            s.start()
        for s in streams:
            s.join(timeout=300)
            assert not s.is_alive() and s.error is None, s.error
        for w in (solo, pair):
            await_consumed(kafka_service, w, eventually, timeout=180)
        one, two = alert_log(solo.topics.alerts), alert_log(pair.topics.alerts)
        assert _versions(one), "the feed raised no alert"
        assert _versions(two) == _versions(one)  # same versions, each published once
        assert max(_versions(two).values()) == 1
        assert_like_backtest(two.poll(), flood)
        assert pair.settled(parts), "a member lost its partitions during the feed"
    finally:
        solo.stop()
        pair.stop()
