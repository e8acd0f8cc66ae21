"""The worker's state topic on real Kafka: checkpoints land on their partition and fold back."""

from __future__ import annotations

import asyncio

from kafka import KafkaConsumer, TopicPartition

from ioc.core.kafka_auth import kafka_access
from ioc.core.settings import Settings
from ioc.processors.worker.app import WorkerTopics
from ioc.processors.worker.state_log import KafkaStateLog
from ioc.processors.worker.topics import ensure_worker_topics


def test_checkpoints_fold_to_the_latest_value_per_partition(
        kafka_service: Settings, prefix: str) -> None:
    kafka, topics = kafka_access(kafka_service), WorkerTopics.prefixed(prefix)
    ensure_worker_topics(kafka, topics, 4)
    log = KafkaStateLog(kafka, topics.state)

    async def write() -> None:
        try:
            await log.write(1, [(b"d:a", b"1"), (b"d:b", b"1"), (b"~", b"m1")])
            await log.write(1, [(b"d:a", b"2"), (b"~", b"m2")])
            await log.write(3, [(b"d:a", b"other ward"), (b"~", b"m3")])
        finally:
            await log.close()

    asyncio.run(write())
    assert log.read([1, 2, 3]) == {1: {b"d:a": b"2", b"d:b": b"1", b"~": b"m2"}, 2: {},
                                   3: {b"d:a": b"other ward", b"~": b"m3"}}
    consumer = KafkaConsumer(**kafka.client_options())
    try:  # one record batch per checkpoint: offsets 0-2, then 3-4 on partition 1
        tp = TopicPartition(topics.state, 1)
        assert consumer.end_offsets([tp])[tp] == 5
    finally:
        consumer.close()
