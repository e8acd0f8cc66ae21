"""How far a consumer group's commits trail the end of its topics, read without joining it."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing

from kafka import KafkaConsumer, TopicPartition

from ioc.core.kafka_auth import KafkaAccess

__all__ = ["GroupLag", "caught_up"]


class GroupLag:
    """Committed offsets of `group` beside the end offsets of `topics`."""

    def __init__(self, kafka: KafkaAccess, group: str, topics: Sequence[str]) -> None:
        # a consumer that never subscribes only reads the group's offsets; it does not join
        self._consumer = KafkaConsumer(**kafka.client_options(), group_id=group,
                                       enable_auto_commit=False)
        self._topics = list(topics)
        self._parts: list[TopicPartition] = []

    def committed(self) -> dict[TopicPartition, int]:
        """The group's committed offset of every partition of the topics (0: none yet)."""
        if not self._parts:
            self._parts = [TopicPartition(t, p) for t in self._topics
                           for p in self._consumer.partitions_for_topic(t) or ()]
        return {tp: self._consumer.committed(tp) or 0 for tp in self._parts}

    def lag(self) -> int | None:
        """Records not committed yet; None while none of the topics has partitions."""
        if not self._parts:
            self._parts = [TopicPartition(t, p) for t in self._topics
                           for p in self._consumer.partitions_for_topic(t) or ()]
            if not self._parts:
                return None
        ends = self._consumer.end_offsets(self._parts)
        return sum(max(0, ends[tp] - (self._consumer.committed(tp) or 0)) for tp in self._parts)

    def close(self) -> None:
        """Close the consumer."""
        self._consumer.close()


def caught_up(kafka: KafkaAccess, group: str, topics: Sequence[str]) -> bool:
    """Whether `group` has committed every partition of `topics` up to its end offset."""
    with closing(GroupLag(kafka, group, topics)) as lag:
        return lag.lag() == 0
