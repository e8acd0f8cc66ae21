"""Readings partitioned by owner ward (as the bridge writes them) skip the repartition hop."""

from __future__ import annotations

from collections.abc import Callable

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from ioc.core.kafka_auth import kafka_access
from ioc.core.ownership import OWNER_HEADER, owner_keys
from ioc.core.registry import Registry
from ioc.core.schemas import reading_to_json
from ioc.core.settings import Settings
from ioc.ingest.kafka_sink import OwnerPartitioner
from tests.integration.processors.proc_helpers import (
    AlertLog,
    Flood,
    WorkerProcess,
    assert_flood_detected,
    await_consumed,
)


def _produce_by_ward(settings: Settings, topic: str, flood: Flood) -> None:
    keys = {d.encode(): o.encode() for d, o in owner_keys(Registry(flood.feed.catalog)).items()}
    producer = KafkaProducer(**kafka_access(settings).client_options(), acks="all",
                             linger_ms=20, partitioner=OwnerPartitioner(keys))
    try:
        for r in flood.readings:  # as the bridge's KafkaSink sends them
            key = r.device_id.encode()
            producer.send(topic, key=key, value=reading_to_json(r),
                          headers=[(OWNER_HEADER, keys[key])])
        producer.flush(timeout=60)
    finally:
        producer.close()


def _records(settings: Settings, topic: str) -> int:
    consumer = KafkaConsumer(**kafka_access(settings).client_options())
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum(consumer.end_offsets(parts).values())
    finally:
        consumer.close()


def test_ward_partitioned_feed_is_detected_without_the_repartition_topic(
        kafka_service: Settings, flood: Flood, worker_process: Callable[..., WorkerProcess],
        alert_log: Callable[[str], AlertLog], eventually: Callable[..., None]) -> None:
    worker = worker_process()
    worker.start()
    _produce_by_ward(kafka_service, worker.topics.telemetry, flood)
    await_consumed(kafka_service, worker, eventually)
    assert_flood_detected(alert_log(worker.topics.alerts), flood, eventually)
    # every reading was judged on its own telemetry partition: nothing was re-keyed
    assert _records(kafka_service, worker.topics.owned) == 0
