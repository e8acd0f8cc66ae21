"""Operator commands and a killed worker, against a real `ioc worker` process and Kafka."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from kafka import KafkaProducer

from ioc.core.kafka_auth import kafka_access
from ioc.core.schemas import Alert, AlertCommand, Reading
from ioc.core.settings import Settings
from tests.integration.processors.proc_helpers import (
    AlertLog,
    Flood,
    WorkerProcess,
    await_consumed,
    produce,
)

FLOOD_RULES = ("flood.level", "flood.localized")


def _split(flood: Flood, after_s: float) -> tuple[list[Reading], list[Reading]]:
    """The feed up to `after_s` past the last flooded ward's first localized alert, and the rest."""
    first: dict[str | None, datetime] = {}
    for a in flood.reference:
        if a.rule == "flood.localized":
            first.setdefault(a.ward, a.date_issued)
    cut = max(first.values()) + timedelta(seconds=after_s)
    head = [r for r in flood.readings if r.observed_at <= cut]
    return head, flood.readings[len(head):]


def test_acknowledge_changes_the_alert_exactly_once(
        kafka_service: Settings, flood: Flood, worker_process: Callable[..., WorkerProcess],
        alert_log: Callable[[str], AlertLog], eventually: Callable[..., None]) -> None:
    worker = worker_process()
    worker.start()
    head, _ = _split(flood, 300)
    produce(kafka_service, worker.topics.telemetry, head)
    await_consumed(kafka_service, worker, eventually)
    log = alert_log(worker.topics.alerts)
    eventually(lambda: any(a.rule == "flood.localized" for a in log.poll()), what="an alert")
    target = next(a for a in log.latest().values()
                  if a.rule == "flood.localized" and a.status == "open")
    before = len([a for a in log.poll() if a.id == target.id])

    at, same = datetime.now(UTC), str(uuid.uuid4())
    commands = [AlertCommand(alert_id=target.id, action="acknowledge", by="op-1", at=at,
                             command_id=cid) for cid in (same, same, str(uuid.uuid4()))]
    producer = KafkaProducer(**kafka_access(kafka_service).client_options(), acks="all")
    for cmd in commands:  # redelivered command, then a second operator's click
        producer.send(worker.topics.commands, key=target.id.encode(),
                      value=cmd.model_dump_json(by_alias=True).encode())
    producer.flush()
    producer.close()
    await_consumed(kafka_service, worker, eventually, worker.topics.commands, worker.topics.owned)
    eventually(lambda: log.latest()[target.id].status == "acknowledged",
               what="the acknowledged alert")

    after = [a for a in log.poll() if a.id == target.id][before:]
    assert [(a.status, a.acknowledged_by, a.version) for a in after] \
        == [("acknowledged", "op-1", target.version + 1)]


def test_killed_worker_resumes_without_duplicate_alerts(
        kafka_service: Settings, flood: Flood, worker_process: Callable[..., WorkerProcess],
        alert_log: Callable[[str], AlertLog], eventually: Callable[..., None]) -> None:
    worker = worker_process()
    worker.start()
    head, tail = _split(flood, 600)  # killed mid-flood, with alerts open everywhere it floods
    # placed by owner, as the bridge does: each ward's readings in one partition, in time
    # order. Keyed by device only, the tail would wait in four partitions while the worker
    # is down and be re-keyed partition after partition on restart, one drain's readings
    # half an hour ahead of its neighbours': a ward window no worker can judge the same.
    owners = flood.owners
    produce(kafka_service, worker.topics.telemetry, head, owners=owners)
    topics = (worker.topics.telemetry, worker.topics.owned)
    await_consumed(kafka_service, worker, eventually, *topics)
    log = alert_log(worker.topics.alerts)
    eventually(lambda: {a.ward for a in log.poll() if a.rule == "flood.localized"}
               >= flood.flooded, what="localized flooding before the kill")
    open_before = {(a.rule, a.subject) for a in log.latest().values() if a.status == "open"}
    assert {r for r, _ in open_before} >= {"flood.level", "flood.localized"}

    worker.kill()
    produce(kafka_service, worker.topics.telemetry, tail, owners=owners)
    worker.start()
    await_consumed(kafka_service, worker, eventually, *topics)
    assert "restored" in worker.log(tail=10**7)

    latest = log.latest()
    # one alert per (rule, subject) at a time: an episode must be resolved before the next
    # one opens. Without the restore the restarted worker opens new flood.level alerts next
    # to the still-open ones.
    episodes: dict[tuple[str, str], list[Alert]] = defaultdict(list)
    for a in sorted(latest.values(), key=lambda a: a.date_issued):
        episodes[(a.rule, a.subject)].append(a)
    for key, alerts in episodes.items():
        for a, b in pairwise(alerts):
            assert a.resolved_at is not None and a.resolved_at <= b.date_issued, (key, a, b)
    # and the same things are detected as in one uninterrupted run (test_worker_failover
    # checks the times too, against the backtest)
    reference = {(a.rule, a.subject) for a in flood.reference if a.rule in FLOOD_RULES}
    assert {k for k in episodes if k[0] in FLOOD_RULES} == reference
    assert open_before <= set(episodes)
