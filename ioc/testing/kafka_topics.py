"""Reading a whole Kafka topic in a test: every record up to the topic's current end."""

from __future__ import annotations

from typing import NamedTuple

from kafka import KafkaConsumer, TopicPartition

from ioc.core.kafka_auth import kafka_access
from ioc.core.settings import Settings

__all__ = ["TopicRecord", "read_records"]


class TopicRecord(NamedTuple):
    """One record's key, value and headers."""

    key: bytes | None
    value: bytes
    headers: dict[str, bytes]


def read_records(settings: Settings, topic: str) -> list[TopicRecord]:
    """Every record on `topic` up to its end when called (none if it does not exist)."""
    consumer = KafkaConsumer(**kafka_access(settings).client_options(), group_id=None,
                             enable_auto_commit=False)
    try:
        parts = [TopicPartition(topic, p)
                 for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not parts:
            return []
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        end = consumer.end_offsets(parts)
        out: list[TopicRecord] = []
        while any(consumer.position(tp) < end[tp] for tp in parts):
            for records in consumer.poll(timeout_ms=500).values():
                out.extend(TopicRecord(r.key, r.value, dict(r.headers)) for r in records)
        return out
    finally:
        consumer.close()
