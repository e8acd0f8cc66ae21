"""Create the worker's Kafka topics up front (kafka-python admin), alerts compacted."""

from __future__ import annotations

import logging

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from ioc.errors import ServiceError

from .faust_app import WorkerTopics

__all__ = ["ensure_worker_topics"]

log = logging.getLogger(__name__)


def ensure_worker_topics(bootstrap: str, topics: WorkerTopics, partitions: int) -> list[str]:
    """Create missing topics; returns the names created.

    Faust only declares the internal topics it consumes, and a topic the broker auto-creates
    on first use would miss compaction (alerts) or appear after the consumer subscribed, so
    its messages would wait for the next metadata refresh.
    """
    compact = {"cleanup.policy": "compact"}
    wanted = [NewTopic(name, partitions, 1, topic_configs=compact if name == topics.alerts
                       else {})
              for name in (topics.telemetry, topics.device_status, topics.commands,
                           topics.alerts, topics.deadletter, topics.owned)]
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="ioc-worker-admin")
    except KafkaError as exc:
        raise ServiceError(f"Kafka at {bootstrap}: {exc}") from exc
    try:
        existing = set(admin.list_topics())
        missing = [t for t in wanted if t.name not in existing]
        created = []
        for topic in missing:  # one by one: a concurrent creator must not fail the rest
            try:
                admin.create_topics([topic])
                created.append(topic.name)
            except TopicAlreadyExistsError:
                pass
        if created:
            log.info("created topics %s", ", ".join(created))
        return created
    finally:
        admin.close()
