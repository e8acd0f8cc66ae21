"""Kafka as `ioc services up` runs it: kafka-python produces, a Faust agent consumes."""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from collections.abc import Callable

import faust
from kafka import KafkaAdminClient, KafkaProducer

from ioc.core.kafka_auth import KafkaAccess, kafka_access
from ioc.core.settings import Settings
from ioc.processors.worker.faust_auth import faust_broker, faust_credentials

N_MESSAGES = 50


def _produce(kafka: KafkaAccess, topic: str, values: list[bytes]) -> None:
    producer = KafkaProducer(**kafka.client_options(), acks="all", linger_ms=5)
    try:
        for index, value in enumerate(values):
            producer.send(topic, key=str(index % 7).encode(), value=value)
        producer.flush(timeout=30)
    finally:
        producer.close()


async def _consume_with_faust(kafka: KafkaAccess, topic_name: str, group: str,
                              expected: int, timeout: float) -> list[bytes]:
    app = faust.App(group, broker=faust_broker(kafka), store="memory://",
                    broker_credentials=faust_credentials(kafka),
                    web_enabled=False, consumer_auto_offset_reset="earliest",
                    broker_commit_interval=0.5, topic_partitions=4,
                    datadir=tempfile.mkdtemp(prefix="ioc-faust-test-"))
    topic = app.topic(topic_name, value_type=bytes, value_serializer="raw")
    seen: list[bytes] = []

    @app.agent(topic)
    async def collect(stream: faust.StreamT[bytes]) -> None:
        async for value in stream:
            seen.append(value)

    await app.start()
    try:
        deadline = time.monotonic() + timeout
        while len(seen) < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        # let the consumer commit what the agent has acked before stopping
        await app.consumer.commit()
    finally:
        await app.stop()
    return seen


def _committed_total(kafka: KafkaAccess, group: str, topic: str) -> int:
    admin = KafkaAdminClient(**kafka.client_options())
    try:
        offsets = admin.list_group_offsets({group: None})[group]
    finally:
        admin.close()
    return sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic)


def test_faust_agent_consumes_in_a_consumer_group(
        kafka_service: Settings, unique_topic: str, eventually: Callable[..., None]) -> None:
    kafka = kafka_access(kafka_service)
    values = [f"reading-{i}-{uuid.uuid4().hex[:6]}".encode() for i in range(N_MESSAGES)]
    _produce(kafka, unique_topic, values)
    group = f"test-faust-{uuid.uuid4().hex[:8]}"

    seen = asyncio.run(_consume_with_faust(kafka, unique_topic, group, N_MESSAGES, 60))

    assert sorted(seen) == sorted(values)
    eventually(lambda: _committed_total(kafka, group, unique_topic) == N_MESSAGES,
               timeout=20, what=f"group {group} to commit {N_MESSAGES} offsets")
