"""The one read-to-the-end loop against real Kafka: uneven partitions, an empty one, a
record written after the read began, and a deadline that passes."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from kafka import KafkaConsumer, KafkaProducer

from ioc.core.errors import ServiceError
from ioc.core.kafka_admin import ensure_topics, kafka_admin
from ioc.core.kafka_auth import KafkaAccess, kafka_access
from ioc.core.settings import Settings
from ioc.core.topic_reader import read_to_end, read_topic, topic_partitions

# partition -> values; partition 1 stays empty
WRITTEN = {0: [b"a0", b"a1", b"a2", b"a3", b"a4"], 1: [], 2: [b"c0", b"c1"]}


def _send(kafka: KafkaAccess, topic: str, by_partition: dict[int, list[bytes]]) -> None:
    producer = KafkaProducer(**kafka.client_options(), acks="all")
    try:
        for partition, values in by_partition.items():
            for value in values:
                producer.send(topic, value=value, key=b"k", partition=partition)
        producer.flush(timeout=30)
    finally:
        producer.close()


@pytest.fixture
def kafka(kafka_service: Settings) -> KafkaAccess:
    """The project's Kafka login."""
    return kafka_access(kafka_service)


@pytest.fixture
def filled(kafka: KafkaAccess, unique_topic: str) -> Iterator[str]:
    """A fresh 3-partition topic holding WRITTEN; deleted afterwards."""
    ensure_topics(kafka, [unique_topic], len(WRITTEN))
    _send(kafka, unique_topic, WRITTEN)
    yield unique_topic
    with kafka_admin(kafka, "ioc-test-topic-reader") as admin:
        admin.delete_topics([unique_topic])


def _maker(kafka: KafkaAccess) -> Callable[[], KafkaConsumer]:
    return lambda: KafkaConsumer(**kafka.client_options(), group_id=None,
                                 enable_auto_commit=False, allow_auto_create_topics=False)


def _by_partition(records: object) -> dict[int, list[bytes | None]]:
    out: dict[int, list[bytes | None]] = {p: [] for p in WRITTEN}
    for rec in records:  # type: ignore[attr-defined]
        out[rec.partition].append(rec.value)
    return out


def test_every_partition_is_read_to_its_end_in_order(kafka: KafkaAccess, filled: str) -> None:
    assert _by_partition(read_topic(_maker(kafka), filled, timeout_s=60)) == WRITTEN


def test_only_the_partitions_asked_for(kafka: KafkaAccess, filled: str) -> None:
    got = _by_partition(read_topic(_maker(kafka), filled, [1, 2], timeout_s=60))
    assert got == {0: [], 1: [], 2: WRITTEN[2]}


def test_a_record_written_after_the_read_began_is_not_read(kafka: KafkaAccess,
                                                           filled: str) -> None:
    consumer = _maker(kafka)()
    try:
        reading = read_to_end(consumer, topic_partitions(consumer, filled), timeout_s=60)
        first = next(reading)  # the end offsets are taken by now
        _send(kafka, filled, {first.partition: [b"later"]})
        got = _by_partition([first, *reading])
    finally:
        consumer.close()
    assert got == WRITTEN


def test_a_missing_topic_reads_as_empty_and_is_not_created(kafka: KafkaAccess,
                                                           unique_topic: str) -> None:
    assert list(read_topic(_maker(kafka), unique_topic, timeout_s=60)) == []
    with kafka_admin(kafka, "ioc-test-topic-reader") as admin:
        assert unique_topic not in admin.list_topics()


def test_a_deadline_passing_short_of_the_end_is_a_service_error(kafka: KafkaAccess,
                                                                filled: str) -> None:
    with pytest.raises(ServiceError, match=rf"cannot read {filled} to its end within 0s "
                                           r"\(partition 0 at 0 of 5, partition 2 at 0 of 2\)"):
        list(read_topic(_maker(kafka), filled, timeout_s=0))
