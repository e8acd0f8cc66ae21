"""Reading a whole Kafka topic in a test, headers included."""

from __future__ import annotations

from kafka import KafkaConsumer, TopicPartition

from ioc.core.kafka_auth import kafka_access
from ioc.core.settings import Settings

__all__ = ["read_records"]


def read_records(settings: Settings,
                 topic: str) -> list[tuple[bytes | None, bytes, dict[str, bytes]]]:
    """Every (key, value, headers) on `topic` up to its current end."""
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
        out: list[tuple[bytes | None, bytes, dict[str, bytes]]] = []
        while any(consumer.position(tp) < end[tp] for tp in parts):
            for records in consumer.poll(timeout_ms=500).values():
                out.extend((r.key, r.value, dict(r.headers)) for r in records)
        return out
    finally:
        consumer.close()
