"""Workers SIGKILLed mid-storm, and wards moving between live workers, against real Kafka:
the alert stream stays the backtest's (rule, subject, severities, times within a reading
interval), every alert version published exactly once."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import closing
from datetime import datetime, timedelta

import pytest

from ioc.core.kafka_auth import kafka_access
from ioc.core.ownership import owner_partition
from ioc.core.settings import Settings
from ioc.processors.worker.topics import ensure_worker_topics, partition_counts
from ioc.testing.kafka_groups import GroupLag
from tests.integration.processors.failover_helpers import (
    Stream,
    assert_like_backtest,
    assignment,
    backtest_differences,
    storm_points,
)
from tests.integration.processors.proc_helpers import (
    AlertLog,
    Flood,
    WorkerProcess,
    await_consumed,
)

STORM_RATE = 80.0  # readings/s in the slow stretches: each takes ~16 s
CHECKPOINTED = re.compile(r"state of ([1-9]\d*) partition\(s\) from checkpoints")


def _stream(settings: Settings, worker: WorkerProcess, flood: Flood) -> Stream:
    """Create the worker's topics, then stream the feed to its telemetry topic."""
    kafka = kafka_access(settings)
    ensure_worker_topics(kafka, worker.topics, settings.kafka_partitions)
    parts = partition_counts(kafka, [worker.topics.telemetry])[worker.topics.telemetry]
    return Stream(settings, worker.topics.telemetry, flood, parts, storm_points(flood).slow,
                  STORM_RATE)


def _at(point: datetime, stream: Stream, settings: Settings, workers: list[WorkerProcess],
        eventually: Callable[..., None]) -> None:
    """Wait until the feed streamed past `point` and the workers keep up with it (their
    group's commits are a few seconds of stream behind): they are busy right there."""
    group = workers[0]
    with closing(GroupLag(kafka_access(settings), group.group,
                          [group.topics.telemetry, group.topics.owned])) as lag:
        def busy_there() -> bool:
            if not stream.is_alive() or not all(w.alive() for w in workers):
                return True  # fails below
            behind = lag.lag()
            return stream.sent_past(point) and behind is not None and behind < 10 * STORM_RATE
        eventually(busy_there, timeout=180, interval=0.1, what=f"the workers busy at {point}")
    assert all(w.alive() for w in workers), workers[0].log()
    assert stream.is_alive() and stream.last_sent is not None, "the feed ended too early"
    assert stream.last_sent.observed_at < point + timedelta(minutes=4), "not in the storm"


def _finish(stream: Stream, settings: Settings, worker: WorkerProcess,
            eventually: Callable[..., None]) -> None:
    stream.join(timeout=300)
    assert not stream.is_alive() and stream.error is None, stream.error
    await_consumed(settings, worker, eventually)  # committed: checkpointed and published


@pytest.mark.parametrize("state", [True, False], ids=["checkpointed", "memory-only"])
def test_worker_killed_mid_storm_raises_the_backtests_alerts(
        kafka_service: Settings, flood: Flood, worker_process: Callable[..., WorkerProcess],
        alert_log: Callable[[str], AlertLog], eventually: Callable[..., None],
        state: bool) -> None:
    worker = worker_process(state=state)
    stream = _stream(kafka_service, worker, flood)
    worker.start()
    log = alert_log(worker.topics.alerts)
    stream.start()
    points = storm_points(flood)
    for point in (points.filling, points.holding):  # rise windows filling; holds running
        _at(point, stream, kafka_service, [worker], eventually)
        worker.kill()  # SIGKILL while the feed streams in: no shutdown, no final commit
        worker.start()
    _finish(stream, kafka_service, worker, eventually)
    found = backtest_differences(log.poll(), flood)
    if state:
        assert CHECKPOINTED.search(worker.log(10**7)), worker.log()
        assert_like_backtest(log.poll(), flood)
    else:  # the restarts know only the open alerts: windows and holds start again, late
        assert found["late"] or found["sequence"] or found["missing"], found


def _settled(workers: list[WorkerProcess], parts: int) -> bool:
    """Every partition held by exactly one of the workers, by each of them some."""
    held = [assignment(w) for w in workers]
    return all(held) and sum(len(h or ()) for h in held) == parts and \
        frozenset().union(*(h or frozenset() for h in held)) == frozenset(range(parts))


def test_survivor_takes_the_wards_of_a_killed_worker(
        kafka_service: Settings, flood: Flood, worker_process: Callable[..., WorkerProcess],
        alert_log: Callable[[str], AlertLog], eventually: Callable[..., None]) -> None:
    workers = [worker_process(name="worker-a"), worker_process(name="worker-b")]
    stream = _stream(kafka_service, workers[0], flood)
    parts = kafka_service.kafka_partitions
    for w in workers:
        w.start()
    eventually(lambda: _settled(workers, parts), timeout=120, interval=0.5,
               what="both workers to hold partitions")
    flooded = {owner_partition(w, parts) for w in flood.flooded}
    victim = next(w for w in workers if flooded & (assignment(w) or set()))
    survivor = next(w for w in workers if w is not victim)
    log = alert_log(victim.topics.alerts)
    stream.start()
    # killed while the fast rises hold before they clear: hold timers must move with them
    _at(storm_points(flood).holding, stream, kafka_service, workers, eventually)
    victim.kill()
    eventually(lambda: assignment(survivor) == frozenset(range(parts)) or not survivor.alive(),
               timeout=90, interval=0.5, what="the survivor to take every partition")
    _finish(stream, kafka_service, survivor, eventually)
    # the victim's wards came with their state (the first assignments had none to load)
    assert CHECKPOINTED.search(survivor.log(10**7)), survivor.log()
    assert_like_backtest(log.poll(), flood)


def test_a_joining_and_a_leaving_worker_move_wards_gracefully(
        kafka_service: Settings, flood: Flood, worker_process: Callable[..., WorkerProcess],
        alert_log: Callable[[str], AlertLog], eventually: Callable[..., None]) -> None:
    first, second = worker_process(name="worker-a"), worker_process(name="worker-b")
    stream = _stream(kafka_service, first, flood)
    parts = kafka_service.kafka_partitions
    first.start()
    log = alert_log(first.topics.alerts)
    eventually(lambda: assignment(first) == frozenset(range(parts)), timeout=90,
               interval=0.5, what="the first worker to hold every partition")
    stream.start()
    points = storm_points(flood)
    _at(points.filling, stream, kafka_service, [first], eventually)
    second.start()  # joins mid-storm: the group rebalances, wards move with their state
    eventually(lambda: _settled([first, second], parts), timeout=90, interval=0.5,
               what="the partitions shared by both workers")
    _at(points.holding, stream, kafka_service, [first, second], eventually)
    first.stop()  # leaves (SIGTERM): every ward moves to the second worker
    eventually(lambda: assignment(second) == frozenset(range(parts)), timeout=90,
               interval=0.5, what="the second worker to take every partition")
    _finish(stream, kafka_service, second, eventually)
    assert len(CHECKPOINTED.findall(second.log(10**7))) >= 2, second.log()
    assert_like_backtest(log.poll(), flood)
