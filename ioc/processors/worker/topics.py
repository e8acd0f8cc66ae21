"""Create the worker's Kafka topics up front (kafka-python admin), alerts and state compacted."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from kafka.admin import NewTopic

from ioc.core import kafka_admin
from ioc.core.kafka_auth import KafkaAccess
from ioc.processors.worker.app import WorkerTopics
from ioc.processors.worker.state_log import STATE_TOPIC_CONFIG

__all__ = ["copartitioned_count", "ensure_worker_topics", "partition_counts"]

log = logging.getLogger(__name__)

_CLIENT_ID = "ioc-worker-admin"


def partition_counts(kafka: KafkaAccess, names: Iterable[str]) -> dict[str, int]:
    """Partition count of each existing topic among `names`."""
    with kafka_admin.kafka_admin(kafka, _CLIENT_ID) as admin:
        return kafka_admin.partition_counts(admin, names)


def ensure_worker_topics(kafka: KafkaAccess, topics: WorkerTopics, partitions: int) -> list[str]:
    """Create missing topics; returns the names created.

    Faust only declares the internal topics it consumes, and a topic the broker auto-creates
    on first use would miss compaction (alerts) or appear after the consumer subscribed, so
    its messages would wait for the next metadata refresh. The internal and state topics
    get the telemetry topic's partition count, which co-partitions them (processors.routing).
    """
    compact = {"cleanup.policy": "compact"}
    names = (topics.telemetry, topics.device_status, topics.commands, topics.alerts,
             topics.deadletter)
    with kafka_admin.kafka_admin(kafka, _CLIENT_ID) as admin:
        # create_topics waits until KRaft lists them: the co-partitioning check that follows
        # must see them, or it would send every reading through the repartition hop
        created = kafka_admin.create_topics(
            admin, [NewTopic(n, partitions, 1, topic_configs=compact
                             if n == topics.alerts else {}) for n in names])
        count = kafka_admin.partition_counts(admin, [topics.telemetry]).get(
            topics.telemetry, partitions)
        created += kafka_admin.create_topics(admin, [
            NewTopic(topics.owned, count, 1),
            NewTopic(topics.state, count, 1, topic_configs=STATE_TOPIC_CONFIG)])
    if created:
        log.info("created topics %s", ", ".join(created))
    return created


def copartitioned_count(kafka: KafkaAccess, topics: WorkerTopics) -> int | None:
    """The telemetry topic's partition count if the internal topic has the same, else None."""
    counts = partition_counts(kafka, [topics.telemetry, topics.owned])
    telemetry, owned = counts.get(topics.telemetry), counts.get(topics.owned)
    if telemetry is None or telemetry != owned:
        log.warning("%s (%s partitions) and %s (%s) are not co-partitioned: every reading "
                    "goes through %s", topics.telemetry, telemetry, topics.owned, owned,
                    topics.owned)
        return None
    return telemetry
