"""Create Kafka topics and wait until the cluster lists them (kafka-python admin)."""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from ioc.core.errors import ServiceError
from ioc.core.kafka_auth import KafkaAccess

__all__ = ["create_topics", "drop_new_topics", "drop_topics", "ensure_topics", "kafka_admin",
           "partition_counts"]

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


def drop_topics(kafka: KafkaAccess, prefixes: Sequence[str], *, keep: Collection[str] = (),
                client_id: str = "ioc-admin") -> list[str]:
    """Delete the topics whose name starts with one of `prefixes`, except those in `keep`;
    returns their names. Every partition a broker holds costs it CPU and file handles even
    when idle, so what a run created for itself is removed after it."""
    with kafka_admin(kafka, client_id) as admin:
        names = sorted(t for t in admin.list_topics()
                       if t.startswith(tuple(prefixes)) and t not in keep)
        if names:
            admin.delete_topics(names)
    if names:
        log.info("deleted %d topic(s) starting with %s", len(names), ", ".join(prefixes))
    return names


@contextmanager
def drop_new_topics(kafka: KafkaAccess, prefixes: Sequence[str], *,
                    client_id: str = "ioc-admin") -> Iterator[list[str]]:
    """Delete, after the block, the topics starting with one of `prefixes` that it created;
    the list yielded holds their names afterwards. Best effort: a Kafka that cannot be
    reached only skips the clean-up (with a warning), the block's own errors stand."""
    dropped: list[str] = []
    try:
        with kafka_admin(kafka, client_id) as admin:
            before = frozenset(admin.list_topics())
    except (ServiceError, KafkaError) as exc:
        log.warning("not cleaning up topics: %s", exc)
        yield dropped
        return
    try:
        yield dropped
    finally:
        try:
            dropped += drop_topics(kafka, prefixes, keep=before, client_id=client_id)
        except (ServiceError, KafkaError) as exc:
            log.warning("could not delete the topics of this run: %s", exc)
