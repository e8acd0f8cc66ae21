"""The one fold of the alerts topic, and its reader over a fake kafka-python consumer."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kafka import TopicPartition
from kafka.errors import KafkaError
from pydantic import SecretStr

from ioc.core.alerts_topic import (
    AlertFold,
    AlertsTopicReader,
    Record,
    Removed,
    decode_record,
    load_alerts,
)
from ioc.core.errors import ServiceError
from ioc.core.kafka_auth import KafkaAccess
from ioc.core.schemas import Alert
from tests.unit.core.kafka_fake import FakeConsumer

T0 = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
TOPIC = "ioc.alerts"


def alert(n: int, *, version: int = 1, status: str = "open") -> Alert:
    """Alert number n at the given version."""
    issued = T0 + timedelta(minutes=n)
    return Alert(id=f"flood.level:dev-{n}", rule="flood.level", subject=f"dev-{n}",
                 category="environment", sub_category="flood", severity="high",
                 status=status, ward="tan-phu", alert_source=f"dev-{n}",  # type: ignore[arg-type]
                 description="water over warning level", date_issued=issued,
                 date_modified=issued + timedelta(seconds=version), version=version)


def rec(a: Alert) -> Record:
    """The record the worker publishes for this state."""
    return Record(a.id.encode(), a.to_json())


def tombstone(alert_id: str) -> Record:
    """A null value for the key: compaction's deletion."""
    return Record(alert_id.encode(), None)


# --- the pure fold ---------------------------------------------------------------------

def test_a_higher_version_wins_whatever_the_order() -> None:
    fold = AlertFold()
    assert fold.apply_record(rec(alert(1, version=3))) == alert(1, version=3)
    assert fold.apply_record(rec(alert(1, version=2))) is None  # older, arrived late
    assert fold.apply_record(rec(alert(1, version=3))) is None  # a replay is no change
    assert fold.alerts == {alert(1).id: alert(1, version=3)}
    assert fold.apply_record(rec(alert(1, version=4))) == alert(1, version=4)


def test_a_tombstone_deletes_and_a_later_state_comes_back() -> None:
    fold = AlertFold([alert(1), alert(2)])
    assert fold.apply_record(tombstone(alert(1).id)) == Removed(alert(1))
    assert list(fold.alerts) == [alert(2).id]
    assert fold.apply_record(tombstone(alert(1).id)) is None  # nothing left to delete
    assert fold.apply_record(rec(alert(1, version=5))) == alert(1, version=5)
    assert fold.undecodable == 0


def test_resolved_alerts_are_kept() -> None:
    fold = AlertFold()
    fold.apply_record(rec(alert(1)))
    resolved = alert(1, version=2, status="resolved")
    assert fold.apply_record(rec(resolved)) == resolved
    assert fold.alerts[alert(1).id].status == "resolved"


@pytest.mark.parametrize("bad", [Record(b"k", b"not json"), Record(b"k", b"\xff\xfe"),
                                 Record(b"k", b"{}"), Record(None, None),
                                 Record(b"\xff", None)])
def test_bad_records_are_counted_not_fatal(bad: Record, caplog: pytest.LogCaptureFixture) -> None:
    fold = AlertFold([alert(1)])
    with caplog.at_level(logging.WARNING):
        assert fold.apply_record(bad) is None
    assert fold.undecodable == 1 and list(fold.alerts) == [alert(1).id]
    assert "undecodable" in caplog.text
    assert fold.apply_record(rec(alert(2))) == alert(2)  # and the fold goes on


def test_decode_record() -> None:
    assert decode_record(b"x", alert(1).to_json()) == alert(1)
    assert decode_record(b"flood.level:dev-1", None) == "flood.level:dev-1"
    with pytest.raises(ValueError):
        decode_record(b"", None)


# --- the reader --------------------------------------------------------------------------

def reader_over(*consumers: FakeConsumer, refresh_s: float = 30.0) -> AlertsTopicReader:
    """A reader that gets the given consumers, one per records() call."""
    queue = list(consumers)

    def factory(**config: Any) -> FakeConsumer:
        consumer = queue.pop(0)
        consumer.config = config
        return consumer

    login = KafkaAccess("kafka:9092", username="reader", password=SecretStr("pw"))
    return AlertsTopicReader(login, TOPIC, poll_ms=1, refresh_s=refresh_s,
                             consumer_factory=factory)


def test_missing_topic_is_empty_and_not_created() -> None:
    consumer = FakeConsumer(None)
    assert list(reader_over(consumer).records(follow=False)) == [None]
    assert consumer.config["allow_auto_create_topics"] is False and consumer.closed
    # the reader logs in like every other client
    assert consumer.config["security_protocol"] == "SASL_PLAINTEXT"
    assert consumer.config["sasl_plain_username"] == "reader"


def _factory(*consumers: FakeConsumer) -> Callable[..., FakeConsumer]:
    queue = list(consumers)

    def factory(**config: Any) -> FakeConsumer:
        consumer = queue.pop(0)
        consumer.config = config
        return consumer
    return factory


LOGIN = KafkaAccess("kafka:9092", username="reader", password=SecretStr("pw"))


def test_a_required_topic_missing_from_one_metadata_answer_is_asked_again() -> None:
    # the worker created its alerts topic: a metadata answer without it is a failed
    # answer, and restoring from an empty fold would open every open alert twice
    factory = _factory(FakeConsumer(None), FakeConsumer({0: [rec(alert(1))]}))
    got = load_alerts(LOGIN, TOPIC, required=True, timeout_s=30, consumer_factory=factory)
    assert list(got) == [alert(1).id]


def test_a_required_topic_that_never_appears_is_an_error() -> None:
    factory = _factory(*(FakeConsumer(None) for _ in range(10)))
    with pytest.raises(ServiceError, match="no partitions"):
        load_alerts(LOGIN, TOPIC, required=True, timeout_s=0.6, consumer_factory=factory)


def test_an_optional_missing_topic_is_empty_at_once() -> None:
    factory = _factory(FakeConsumer(None))
    assert load_alerts(LOGIN, TOPIC, consumer_factory=factory) == {}


def test_reads_to_the_end_then_stops() -> None:
    consumer = FakeConsumer({0: [rec(alert(1)), rec(alert(1, version=2))], 1: [rec(alert(2))]})
    got = list(reader_over(consumer).records(follow=False))
    assert got[-1] is None and len(got) == 4 and consumer.closed


def kv(records: Any) -> list[tuple[bytes | None, bytes | None] | None]:
    """Key and value of each record (None stays None)."""
    return [None if r is None else (r.key, r.value) for r in records]


def _follow(reader: AlertsTopicReader, stop: threading.Event) -> list[Any]:
    return kv(reader.records(follow=True, stop=stop))


def script(stop: threading.Event, stop_at: int,
           steps: dict[int, Callable[[dict[int, list[Record]]], None]]) -> Callable[..., None]:
    """An on_poll that changes the log at given poll numbers and sets `stop` at another."""
    polls = 0

    def on_poll(c: FakeConsumer) -> None:
        nonlocal polls
        polls += 1
        if polls in steps and c.log is not None:
            steps[polls](c.log)
        if polls == stop_at:
            stop.set()

    return on_poll


def test_follow_waits_for_the_topic_then_yields_new_records_until_stopped() -> None:
    stop = threading.Event()
    grow = script(stop, 4, {2: lambda log: log[0].append(rec(alert(2)))})
    consumer = FakeConsumer(None, on_poll=grow)
    original = consumer.partitions_for_topic

    def appears(topic: str) -> set[int] | None:
        if consumer.log is None:
            consumer.log = {0: [rec(alert(1))]}  # the worker creates it on the second look
            return None
        return original(topic)

    consumer.partitions_for_topic = appears  # type: ignore[method-assign]
    assert _follow(reader_over(consumer), stop) == kv([None, rec(alert(1)), rec(alert(2))])


def test_a_new_session_resumes_where_the_failed_one_stopped() -> None:
    log = {0: [rec(alert(1)), rec(alert(2))]}

    def fail_second_poll(c: FakeConsumer) -> None:
        if c.pos[TopicPartition(TOPIC, 0)] == 2:
            raise KafkaError("broker went away")

    reader = reader_over(FakeConsumer(log, on_poll=fail_second_poll), FakeConsumer(log))
    seen: list[Record | None] = []
    with pytest.raises(KafkaError):
        seen.extend(reader.records(follow=True))
    assert kv(seen) == kv([rec(alert(1)), rec(alert(2)), None])
    log[0].append(rec(alert(3)))
    assert kv(reader.records(follow=False)) == kv([rec(alert(3)), None])  # no replay


def test_partitions_added_later_are_read_from_their_beginning() -> None:
    stop = threading.Event()
    add = script(stop, 3, {1: lambda log: log.update({1: [rec(alert(2))]})})
    consumer = FakeConsumer({0: [rec(alert(1))]}, on_poll=add)
    got = _follow(reader_over(consumer, refresh_s=0.001), stop)
    assert got == kv([rec(alert(1)), None, rec(alert(2))])
