"""The storage sink's librdkafka adapter against real Kafka: batches with their offsets,
commits that a new member resumes from, pause, seek, rewind, a missing topic and tombstones."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from kafka import KafkaProducer

from ioc.core.kafka_admin import ensure_topics, kafka_admin
from ioc.core.kafka_auth import KafkaAccess, kafka_access
from ioc.core.settings import Settings
from ioc.storage.rdkafka_source import RdKafkaSource, consumer_config
from ioc.storage.record_source import Part, Polled

PARTITIONS, PER_PARTITION = 2, 30


@pytest.fixture
def kafka(kafka_service: Settings) -> KafkaAccess:
    """The project's Kafka login."""
    return kafka_access(kafka_service)


@pytest.fixture
def filled(kafka: KafkaAccess, unique_topic: str) -> Iterator[str]:
    """A fresh 2-partition topic, PER_PARTITION values in each (a tombstone last in 1)."""
    ensure_topics(kafka, [unique_topic], PARTITIONS)
    producer = KafkaProducer(**kafka.client_options(), acks="all")
    try:
        for p in range(PARTITIONS):
            for i in range(PER_PARTITION):
                value = None if (p, i) == (1, PER_PARTITION - 1) else f"{p}-{i}".encode()
                producer.send(unique_topic, key=b"k", value=value, partition=p)
        producer.flush(timeout=30)
    finally:
        producer.close()
    yield unique_topic
    with kafka_admin(kafka, "ioc-test-rdkafka-source") as admin:
        admin.delete_topics([unique_topic])


def _source(kafka: KafkaAccess, group: str, topics: list[str]) -> RdKafkaSource:
    source = RdKafkaSource(consumer_config(kafka, group))
    source.subscribe(topics)
    return source


def _drain(source: RdKafkaSource, want: int, max_records: int = 7,
           polls: int = 200) -> list[Polled]:
    """Poll until `want` records came (each poll a 0.1 s wait at most), or fail."""
    got: list[Polled] = []
    for _ in range(polls):
        if sum(len(v) for p in got for v in p.values.values()) >= want:
            return got
        polled = source.poll(0.1, max_records)
        if polled:
            got.append(polled)
    pytest.fail(f"{want} records did not arrive in {polls} polls")


def _values(batches: list[Polled], topic: str) -> list[bytes | None]:
    return [v for p in batches for v in p.values.get(topic, [])]


def test_batches_carry_offsets_and_a_new_member_resumes_from_the_commit(
        kafka: KafkaAccess, filled: str) -> None:
    group, missing = f"test-{uuid.uuid4().hex[:8]}", f"{filled}-absent"
    source = _source(kafka, group, [filled, missing])  # the absent topic is only warned of
    try:
        batches = _drain(source, PARTITIONS * PER_PARTITION)
        values = _values(batches, filled)
        assert len(values) == PARTITIONS * PER_PARTITION and values.count(None) == 1
        assert all(len(p.values[filled]) <= 7 for p in batches)
        ends: dict[Part, int] = {}
        for p in batches:
            for part, first in p.first.items():
                assert first == ends.get(part, 0)  # each batch starts where the last ended
            ends.update(p.end)
        assert ends == {(filled, 0): PER_PARTITION, (filled, 1): PER_PARTITION}
        assert source.assignment() == {(filled, 0), (filled, 1)}
        source.commit({(filled, 0): 10, (filled, 1): 20})
    finally:
        source.close()
    again = _source(kafka, group, [filled])
    try:
        resumed = _values(_drain(again, 2 * PER_PARTITION - 30), filled)
        assert sorted(v for v in resumed if v) == sorted(
            [f"0-{i}".encode() for i in range(10, PER_PARTITION)]
            + [f"1-{i}".encode() for i in range(20, PER_PARTITION - 1)])
    finally:
        again.close()


def test_pause_seek_and_rewind(kafka: KafkaAccess, filled: str) -> None:
    source = _source(kafka, f"test-{uuid.uuid4().hex[:8]}", [filled])
    try:
        _drain(source, PARTITIONS * PER_PARTITION, max_records=100)
        source.commit({(filled, 0): 25})  # partition 1: nothing committed
        source.rewind()  # 0 from 25, 1 from its beginning
        after = _values(_drain(source, 5 + PER_PARTITION, max_records=100), filled)
        assert sorted(v for v in after if v) == sorted(
            [f"0-{i}".encode() for i in range(25, PER_PARTITION)]
            + [f"1-{i}".encode() for i in range(PER_PARTITION - 1)])
        source.seek((filled, 0), 28)
        source.seek((filled, 1), 0)
        source.pause([(filled, 1)])
        only = _values(_drain(source, 2, max_records=100), filled)
        assert only == [b"0-28", b"0-29"]
        assert not source.poll(0.5, 100)  # partition 1 stays paused
        source.resume_all()
        back = _values(_drain(source, PER_PARTITION, max_records=100), filled)
        assert back[0] == b"1-0" and len(back) == PER_PARTITION
    finally:
        source.close()
