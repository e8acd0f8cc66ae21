"""Create the worker's Kafka topics up front (kafka-python admin), alerts compacted."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from ioc.core.errors import ServiceError
from ioc.processors.worker.app import WorkerTopics

__all__ = ["copartitioned_count", "ensure_worker_topics", "partition_counts"]

log = logging.getLogger(__name__)


def _admin(bootstrap: str) -> KafkaAdminClient:
    try:
        return KafkaAdminClient(bootstrap_servers=bootstrap, client_id="ioc-worker-admin")
    except KafkaError as exc:
        raise ServiceError(f"Kafka at {bootstrap}: {exc}") from exc


def partition_counts(bootstrap: str, names: Iterable[str]) -> dict[str, int]:
    """Partition count of each existing topic among `names`."""
    admin = _admin(bootstrap)
    try:
        return _counts(admin, names)
    finally:
        admin.close()


def _counts(admin: KafkaAdminClient, names: Iterable[str]) -> dict[str, int]:
    described = admin.describe_topics(list(names))
    return {d["name"]: len(d["partitions"]) for d in described
            if d.get("error_code", 0) == 0 and d.get("partitions")}


def ensure_worker_topics(bootstrap: str, topics: WorkerTopics, partitions: int) -> list[str]:
    """Create missing topics; returns the names created.

    Faust only declares the internal topics it consumes, and a topic the broker auto-creates
    on first use would miss compaction (alerts) or appear after the consumer subscribed, so
    its messages would wait for the next metadata refresh. The internal topic gets the
    telemetry topic's partition count, which co-partitions the two (processors.routing).
    """
    compact = {"cleanup.policy": "compact"}
    names = (topics.telemetry, topics.device_status, topics.commands, topics.alerts,
             topics.deadletter)
    admin = _admin(bootstrap)
    try:
        created = _create(admin, [NewTopic(n, partitions, 1, topic_configs=compact
                                           if n == topics.alerts else {}) for n in names])
        count = _counts(admin, [topics.telemetry]).get(topics.telemetry, partitions)
        created += _create(admin, [NewTopic(topics.owned, count, 1)])
        _await_visible(admin, [*names, topics.owned])
    finally:
        admin.close()
    if created:
        log.info("created topics %s", ", ".join(created))
    return created


def _await_visible(admin: KafkaAdminClient, names: list[str], timeout: float = 30.0) -> None:
    """KRaft publishes new topics asynchronously; the co-partitioning check that follows
    must see them, or it would send every reading through the repartition hop."""
    deadline = time.monotonic() + timeout
    while len(_counts(admin, names)) < len(names):
        if time.monotonic() > deadline:
            raise ServiceError(f"topics not visible after {timeout:.0f}s: {sorted(names)}")
        time.sleep(0.05)


def _create(admin: KafkaAdminClient, wanted: list[NewTopic]) -> list[str]:
    existing = set(admin.list_topics())
    created = []
    for topic in wanted:  # one by one: a concurrent creator must not fail the rest
        if topic.name in existing:
            continue
        try:
            admin.create_topics([topic])
            created.append(topic.name)
        except TopicAlreadyExistsError:
            pass
    return created


def copartitioned_count(bootstrap: str, topics: WorkerTopics) -> int | None:
    """The telemetry topic's partition count if the internal topic has the same, else None."""
    counts = partition_counts(bootstrap, [topics.telemetry, topics.owned])
    telemetry, owned = counts.get(topics.telemetry), counts.get(topics.owned)
    if telemetry is None or telemetry != owned:
        log.warning("%s (%s partitions) and %s (%s) are not co-partitioned: every reading "
                    "goes through %s", topics.telemetry, telemetry, topics.owned, owned,
                    topics.owned)
        return None
    return telemetry
