"""The one topic creator: creates what is missing, tolerates a racing creator, waits for KRaft."""

from __future__ import annotations

from typing import Any, cast

import pytest
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from ioc.core.errors import ServiceError
from ioc.core.kafka_admin import create_topics, partition_counts


class FakeAdmin:
    """Topics become visible to describe_topics only after `lag` describe calls; `racing`
    topics are created by someone else between list_topics and create_topics."""

    def __init__(self, existing: dict[str, int], lag: int = 0,
                 racing: dict[str, int] | None = None) -> None:
        self.topics, self.lag, self.racing = dict(existing), lag, racing or {}
        self.created: list[str] = []
        self.describes = 0

    def list_topics(self) -> list[str]:
        return list(self.topics)

    def create_topics(self, topics: list[NewTopic]) -> None:
        for topic in topics:
            if topic.name in self.racing:
                self.topics[topic.name] = self.racing[topic.name]
                raise TopicAlreadyExistsError(topic.name)
            self.created.append(topic.name)
            self.topics[topic.name] = topic.num_partitions

    def describe_topics(self, names: list[str]) -> list[dict[str, Any]]:
        self.describes += 1
        visible = {} if self.describes <= self.lag else self.topics
        return [{"name": n, "error_code": 0 if n in visible else 3,
                 "partitions": list(range(visible.get(n, 0)))} for n in names]


def _admin(fake: FakeAdmin) -> KafkaAdminClient:
    return cast(KafkaAdminClient, fake)


def test_creates_only_missing_topics_and_waits_until_described() -> None:
    fake = FakeAdmin({"a": 3}, lag=4)
    created = create_topics(_admin(fake), [NewTopic("a", 3, 1), NewTopic("b", 2, 1)])
    assert created == fake.created == ["b"]
    assert fake.describes == 5  # four answers without the topics, then both described
    assert partition_counts(_admin(fake), ["a", "b", "missing"]) == {"a": 3, "b": 2}


def test_a_racing_creator_does_not_fail_the_rest() -> None:
    fake = FakeAdmin({}, racing={"a": 1})
    created = create_topics(_admin(fake), [NewTopic("a", 1, 1), NewTopic("b", 1, 1)])
    assert created == ["b"]
    assert partition_counts(_admin(fake), ["a", "b"]) == {"a": 1, "b": 1}


def test_gives_up_when_the_topics_never_appear() -> None:
    fake = FakeAdmin({}, lag=10**6)
    with pytest.raises(ServiceError, match="not visible"):
        create_topics(_admin(fake), [NewTopic("x", 1, 1)], timeout=0.2)
