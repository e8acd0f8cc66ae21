"""Messages per second on a Kafka topic over time, from the offsets at each bucket's start.

Kafka indexes offsets by record time, so the rate of any past window comes from the broker
alone (`offsets_for_times`): nothing has to be sampled while the API runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from ioc.core.errors import IocError, ServiceError
from ioc.core.kafka_auth import KafkaAccess

__all__ = ["KafkaTopicRates", "TopicRates", "rates_from_offsets"]


class TopicRates(Protocol):
    """Per-bucket message rates of a topic (Kafka, or a fake in tests)."""

    def rates(self, topic: str, since: datetime, until: datetime,
              step_s: int) -> list[tuple[int, float]]: ...

    def close(self) -> None: ...


def rates_from_offsets(starts_ms: list[int], offsets: list[int],
                       step_s: int) -> list[tuple[int, float]]:
    """(bucket start ms, messages/s) from the summed offsets at each bucket edge."""
    return [(starts_ms[i], max(0, offsets[i + 1] - offsets[i]) / step_s)
            for i in range(len(starts_ms))]


class KafkaTopicRates:
    """Reads offsets by time with one consumer (made on first use, shared under a lock)."""

    def __init__(self, kafka: Callable[[], KafkaAccess], timeout_s: float = 10.0) -> None:
        # the access is resolved on first use too: an app that never draws the pipeline
        # panel (or a unit test) needs no Kafka credentials
        self._kafka, self._timeout_ms = kafka, int(timeout_s * 1000)
        self._consumer: KafkaConsumer | None = None
        self._lock = threading.Lock()

    def _get(self) -> KafkaConsumer:
        if self._consumer is None:
            self._consumer = KafkaConsumer(**self._kafka().client_options(), group_id=None,
                                           enable_auto_commit=False,
                                           client_id="ioc-api-rates",
                                           allow_auto_create_topics=False,
                                           request_timeout_ms=self._timeout_ms + 1000)
        return self._consumer

    def _edge_offsets(self, consumer: KafkaConsumer, parts: list[TopicPartition],
                      edges_ms: list[int]) -> list[int]:
        ends = consumer.end_offsets(parts)
        out = []
        for edge in edges_ms:
            found = consumer.offsets_for_times({tp: edge for tp in parts})
            # None: no record at or after the edge, so everything before it is the end
            out.append(sum(ends[tp] if found.get(tp) is None else found[tp].offset
                           for tp in parts))
        return out

    def rates(self, topic: str, since: datetime, until: datetime,
              step_s: int) -> list[tuple[int, float]]:
        """Messages/s per `step_s` bucket in [since, until]; zeros if the topic is absent."""
        start_ms, end_ms = int(since.timestamp() * 1000), int(until.timestamp() * 1000)
        starts = list(range(start_ms - start_ms % (step_s * 1000), end_ms, step_s * 1000))
        edges = [*starts, starts[-1] + step_s * 1000] if starts else []
        with self._lock:
            try:
                consumer = self._get()
                ids = consumer.partitions_for_topic(topic) or set()
                if not ids or not edges:
                    return [(s, 0.0) for s in starts]
                parts = [TopicPartition(topic, p) for p in sorted(ids)]
                offsets = self._edge_offsets(consumer, parts, edges)
            except (KafkaError, IocError) as exc:
                raise ServiceError(f"cannot read the offsets of {topic}: {exc}") from exc
        return rates_from_offsets(starts, offsets, step_s)

    def close(self) -> None:
        """Close the consumer."""
        with self._lock:
            if self._consumer is not None:
                self._consumer.close()
                self._consumer = None
