"""Reading a whole Kafka topic in a test: every record up to the topic's current end."""

from __future__ import annotations

from typing import NamedTuple

from kafka import KafkaConsumer

from ioc.core.kafka_auth import kafka_access
from ioc.core.settings import Settings
from ioc.core.topic_reader import read_topic

__all__ = ["TopicRecord", "read_records"]


class TopicRecord(NamedTuple):
    """One record's key, value (b"" for a tombstone) and headers."""

    key: bytes | None
    value: bytes
    headers: dict[str, bytes]


def read_records(settings: Settings, topic: str) -> list[TopicRecord]:
    """Every record on `topic` up to its end when called (none if it does not exist)."""
    def consumer() -> KafkaConsumer:
        return KafkaConsumer(**kafka_access(settings).client_options(), group_id=None,
                             enable_auto_commit=False)

    return [TopicRecord(r.key, r.value or b"", dict(r.headers))
            for r in read_topic(consumer, topic, poll_ms=500)]
