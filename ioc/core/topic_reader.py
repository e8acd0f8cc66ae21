"""Reading a Kafka topic from its beginning to the end it had when the read began.

The one kafka-python loop for it (assign by hand, seek, take the end offsets, poll until
every partition reaches its end): the soak's counts, the worker's state restore, the alerts
topic's catch-up and the tests' topic reads all go through `read_to_end` / `read_topic`.
Partitions are assigned by hand, never through a consumer group: a reader must see every
record from the first offset whatever the group coordinator is doing.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Collection, Generator, Iterator, Mapping, Sequence
from typing import Any, Protocol

from kafka import TopicPartition

from ioc.core.errors import ServiceError

__all__ = ["ConsumedRecord", "TopicConsumer", "assign_at", "behind", "read_to_end",
           "read_topic", "topic_partitions"]


class ConsumedRecord(Protocol):
    """The fields of a kafka-python ConsumerRecord the readers use (value None: tombstone)."""

    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


class TopicConsumer(Protocol):
    """The part of kafka-python's KafkaConsumer a topic read uses."""

    def partitions_for_topic(self, topic: str) -> set[int] | None: ...
    def assign(self, partitions: list[TopicPartition]) -> None: ...
    def seek(self, partition: TopicPartition, offset: int) -> None: ...
    def seek_to_beginning(self, *partitions: TopicPartition) -> None: ...
    def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]: ...
    def position(self, partition: TopicPartition) -> int: ...
    def poll(self, timeout_ms: int) -> Mapping[TopicPartition, Sequence[Any]]: ...
    def close(self) -> None: ...


def topic_partitions(consumer: TopicConsumer, topic: str) -> list[TopicPartition]:
    """The topic's partitions in the cluster's metadata, in order (none if it is unknown)."""
    return [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]


def assign_at(consumer: TopicConsumer, parts: Sequence[TopicPartition],
              start: Mapping[TopicPartition, int] | None = None) -> None:
    """Assign `parts` by hand: each at its offset in `start`, the others at their beginning."""
    start = start or {}
    consumer.assign(list(parts))
    fresh = [tp for tp in parts if tp not in start]
    for tp in parts:
        if tp in start:
            consumer.seek(tp, start[tp])
    if fresh:
        consumer.seek_to_beginning(*fresh)


def behind(ends: Mapping[TopicPartition, int],
           positions: Mapping[TopicPartition, int]) -> dict[TopicPartition, int]:
    """Records each partition still lacks to reach its end (only the ones short of it)."""
    return {tp: end - positions[tp] for tp, end in ends.items() if positions[tp] < end}


def _short_of(topic: str, timeout_s: float, ends: Mapping[TopicPartition, int],
              positions: Mapping[TopicPartition, int]) -> ServiceError:
    left = behind(ends, positions)
    where = ", ".join(f"partition {tp.partition} at {positions[tp]} of {ends[tp]}"
                      for tp in sorted(left, key=lambda tp: tp.partition))
    return ServiceError(f"cannot read {topic} to its end within {timeout_s:g}s ({where})")


def read_to_end(consumer: TopicConsumer, parts: Sequence[TopicPartition], *,
                start: Mapping[TopicPartition, int] | None = None,
                timeout_s: float | None = None, poll_ms: int = 500,
                stop: threading.Event | None = None) -> Iterator[ConsumedRecord]:
    """Every record of `parts` from `start` (default: the beginning) up to the end offsets
    taken once assigned, after which the consumer stands at those ends; ServiceError once
    `timeout_s` passes short of them; returns early, quietly, once `stop` is set."""
    if not parts:
        return
    assign_at(consumer, parts, start)
    ends = consumer.end_offsets(list(parts))
    deadline = time.monotonic() + (math.inf if timeout_s is None else timeout_s)
    while True:
        positions = {tp: consumer.position(tp) for tp in ends}
        if not behind(ends, positions) or (stop is not None and stop.is_set()):
            return
        if time.monotonic() >= deadline:
            # only a finite timeout passes
            raise _short_of(parts[0].topic, timeout_s or 0.0, ends, positions)
        for tp, batch in consumer.poll(timeout_ms=poll_ms).items():
            if batch and batch[-1].offset >= ends[tp]:
                # written after the read began: not part of it; back to the end, so that a
                # caller going on with this consumer (following the topic) still gets them
                batch = [rec for rec in batch if rec.offset < ends[tp]]
                consumer.seek(tp, ends[tp])
            yield from batch


def read_topic(make_consumer: Callable[[], TopicConsumer], topic: str,
               partitions: Collection[int] | None = None, *, timeout_s: float | None = None,
               poll_ms: int = 500) -> Generator[ConsumedRecord, None, None]:
    """`read_to_end` of `topic` (all its partitions, or the given ones) with a consumer of
    its own, closed when the read ends or the generator is closed; a topic that does not
    exist reads as empty."""
    consumer = make_consumer()
    try:
        parts = (topic_partitions(consumer, topic) if partitions is None
                 else [TopicPartition(topic, p) for p in sorted(partitions)])
        yield from read_to_end(consumer, parts, timeout_s=timeout_s, poll_ms=poll_ms)
    finally:
        consumer.close()
