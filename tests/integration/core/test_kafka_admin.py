"""Dropping what a run created, against real Kafka: only topics made inside the block and
under its prefixes go; older ones and other prefixes stay."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from ioc.core.kafka_admin import drop_new_topics, drop_topics, ensure_topics, kafka_admin
from ioc.core.kafka_auth import KafkaAccess, kafka_access
from ioc.core.settings import Settings


def _listed(kafka: KafkaAccess, prefix: str) -> set[str]:
    with kafka_admin(kafka, "test-kafka-admin") as admin:
        return {t for t in admin.list_topics() if t.startswith(prefix)}


def test_only_the_topics_made_inside_the_block_under_its_prefixes_are_dropped(
        kafka_service: Settings, eventually: Callable[..., None]) -> None:
    kafka = kafka_access(kafka_service)
    run = f"test-drop-{uuid.uuid4().hex[:8]}-"
    older, inside, other = f"{run}a-older", f"{run}a-inside", f"{run}b-other"
    ensure_topics(kafka, [older], 1)
    try:
        with drop_new_topics(kafka, [f"{run}a-"]) as dropped:
            ensure_topics(kafka, [inside, other], 1)
            assert dropped == []  # filled in only after the block
        assert dropped == [inside]
        eventually(lambda: _listed(kafka, run) == {older, other}, timeout=30,
                   what="the new topic under the prefix deleted, the others kept")
    finally:
        drop_topics(kafka, [run])
    eventually(lambda: not _listed(kafka, run), timeout=30, what="clean-up of the test")


def test_a_failing_block_still_drops_what_it_made(
        kafka_service: Settings, eventually: Callable[..., None]) -> None:
    kafka = kafka_access(kafka_service)
    run = f"test-drop-{uuid.uuid4().hex[:8]}-"
    try:
        with drop_new_topics(kafka, [run]):
            ensure_topics(kafka, [f"{run}x"], 1)
            raise RuntimeError("the measurement failed")
    except RuntimeError:
        pass
    eventually(lambda: not _listed(kafka, run), timeout=30, what="the topic deleted")
