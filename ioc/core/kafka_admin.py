"""Create Kafka topics and wait until the cluster lists them (kafka-python admin)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from ioc.core.errors import ServiceError
from ioc.core.kafka_auth import KafkaAccess

__all__ = ["create_topics", "ensure_topics", "kafka_admin", "partition_counts"]

log = logging.getLogger(__name__)


@contextmanager
def kafka_admin(kafka: KafkaAccess, client_id: str) -> Iterator[KafkaAdminClient]:
    """An admin client for the block; ServiceError when Kafka does not answer."""
    try:
        admin = KafkaAdminClient(**kafka.client_options(), client_id=client_id)
    except KafkaError as exc:
        raise ServiceError(f"Kafka at {kafka.bootstrap}: {exc}") from exc
    try:
        yield admin
    finally:
        admin.close()


def partition_counts(admin: KafkaAdminClient, names: Iterable[str]) -> dict[str, int]:
    """Partition count of each topic among `names` that the cluster describes."""
    described = admin.describe_topics(list(names))
    return {d["name"]: len(d["partitions"]) for d in described
            if d.get("error_code", 0) == 0 and d.get("partitions")}


def create_topics(admin: KafkaAdminClient, wanted: Sequence[NewTopic],
                  timeout: float = 30.0) -> list[str]:
    """Create the missing topics, then wait until all are described; returns those created.

    KRaft publishes new topics asynchronously: a consumer subscribing (or a partition count
    read) right after the create call may see nothing yet, so the call waits for them.
    """
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
    _await_described(admin, [t.name for t in wanted], timeout)
    return created


def _await_described(admin: KafkaAdminClient, names: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while len(partition_counts(admin, names)) < len(set(names)):
        if time.monotonic() > deadline:
            raise ServiceError(f"topics not visible after {timeout:.0f}s: {sorted(names)}")
        time.sleep(0.05)  # polling the cluster's metadata with a deadline


def ensure_topics(kafka: KafkaAccess, names: Sequence[str], partitions: int, *,
                  client_id: str = "ioc-admin") -> list[str]:
    """Create plain topics (`partitions` each, replication 1) and wait until listed."""
    with kafka_admin(kafka, client_id) as admin:
        created = create_topics(admin, [NewTopic(n, partitions, 1) for n in names])
    if created:
        log.info("created topics %s", ", ".join(created))
    return created
