"""The confluent-kafka (librdkafka) adapter of the storage sink's RecordSource.

Fetching, decompression and record decoding run in librdkafka's C threads, outside the GIL;
the Python side only groups the messages a poll returns. Measured against kafka-python's
consumer, whose record unpacking was a third of the sink's CPU (`ioc bench --only storage`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    TopicPartition,
)

from ioc.core.kafka_auth import KafkaAccess
from ioc.storage.record_source import Part, Polled

__all__ = ["RdKafkaSource", "consumer_config", "kafka_away"]

log = logging.getLogger(__name__)

# errors that say the cluster is unreachable or not ready, whatever librdkafka's retriable flag
_AWAY = frozenset({
    KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN, KafkaError._TIMED_OUT,
    KafkaError._WAIT_COORD, KafkaError._RESOLVE, KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError.NOT_COORDINATOR, KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    KafkaError.REQUEST_TIMED_OUT, KafkaError.NETWORK_EXCEPTION,
    KafkaError.LEADER_NOT_AVAILABLE, KafkaError.NOT_LEADER_FOR_PARTITION,
})
# a subscribed topic that does not exist (yet): kafka-python only warned, and so do we
_MISSING = frozenset({KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC,
                      KafkaError._UNKNOWN_PARTITION})


def kafka_away(exc: BaseException) -> bool:
    """Whether a confluent-kafka error says the broker is unreachable or not ready, rather
    than that we are wrong (authentication, authorization, a commit lost to a rebalance)."""
    if not isinstance(exc, KafkaException) or not exc.args:
        return False
    err = exc.args[0]
    return isinstance(err, KafkaError) and (err.retriable() or err.code() in _AWAY)


def consumer_config(kafka: KafkaAccess, group: str, *, fetch_min_bytes: int = 1,
                    fetch_wait_ms: int = 500) -> dict[str, Any]:
    """librdkafka properties of a storage consumer: explicit commits, earliest when new."""
    return {
        **kafka.librdkafka_options(),
        "group.id": group,
        "client.id": group,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "fetch.min.bytes": fetch_min_bytes,
        "fetch.wait.max.ms": fetch_wait_ms,
        # prefetched records per partition; the sink holds one batch, Kafka keeps the rest
        "queued.max.messages.kbytes": 16 * 1024,
        "reconnect.backoff.ms": 200,
        "reconnect.backoff.max.ms": 5_000,
    }


def _tp(part: Part, offset: int | None = None) -> TopicPartition:
    return TopicPartition(part[0], part[1]) if offset is None else \
        TopicPartition(part[0], part[1], offset)


class RdKafkaSource:
    """A RecordSource on a confluent_kafka.Consumer."""

    def __init__(self, config: dict[str, Any]) -> None:
        self._consumer = Consumer(config, logger=logging.getLogger("ioc.storage.librdkafka"))
        self._paused: set[Part] = set()
        self._logged: set[str | int] = set()

    def subscribe(self, topics: list[str]) -> None:
        """Join the group for these topics."""
        self._consumer.subscribe(topics)

    def poll(self, timeout_s: float, max_records: int) -> Polled:
        """Up to `max_records` records, grouped by topic, with their partitions' offsets."""
        polled = Polled()
        values, first, end = polled.values, polled.first, polled.end
        # Any: the stubs allow None topics and offsets, which a consumed record never has
        messages: list[Any] = self._consumer.consume(max_records, timeout_s)
        for msg in messages:
            if msg.error() is not None:
                self._on_error(msg.error())
                continue
            topic = msg.topic()
            part, offset = (topic, msg.partition()), msg.offset()
            if part not in first:
                first[part] = offset
            end[part] = offset + 1
            found = values.get(topic)
            if found is None:
                found = values[topic] = []
            found.append(msg.value())
        return polled

    def _on_error(self, err: KafkaError) -> None:
        if err.code() == KafkaError._PARTITION_EOF:
            return
        if err.fatal():
            raise KafkaException(err)
        # librdkafka retries the rest itself: raising would only drop this poll's records
        # (the sink rewinds and fetches them again); say each once and go on
        text, missing = err.str(), err.code() in _MISSING
        # a missing topic's text names it; other texts carry timings, so once per code
        key: str | int = text if missing else err.code()
        if key in self._logged:
            log.debug("storage consumer: %s", text)
        elif missing:
            log.warning("storage consumer: %s (consuming the other topics)", text)
        else:
            log.warning("storage consumer: %s (librdkafka retries; said once)", text)
        self._logged.add(key)

    def commit(self, offsets: Mapping[Part, int]) -> None:
        """Commit synchronously; a partition the broker refused raises KafkaException."""
        done = self._consumer.commit(offsets=[_tp(p, o) for p, o in offsets.items()],
                                     asynchronous=False)
        for tp in done or ():
            if tp.error is not None:
                raise KafkaException(tp.error)

    def assignment(self) -> set[Part]:
        """The partitions this member owns now."""
        return {(tp.topic, tp.partition) for tp in self._consumer.assignment()}

    def pause(self, parts: Iterable[Part]) -> None:
        """Stop fetching these partitions."""
        chosen = set(parts)
        if chosen:
            self._consumer.pause([_tp(p) for p in chosen])
            self._paused |= chosen

    def resume_all(self) -> None:
        """Fetch the paused partitions that are still ours again."""
        owned = self._paused & self.assignment()
        if owned:
            self._consumer.resume([_tp(p) for p in owned])
        self._paused.clear()

    def seek(self, part: Part, offset: int) -> None:
        """Read `part` from `offset` on."""
        self._consumer.seek(_tp(part, offset))

    def rewind(self) -> None:
        """Seek every owned partition to its committed offset (the beginning if none)."""
        owned = self._consumer.assignment()
        if not owned:
            return
        for tp in self._consumer.committed(owned, timeout=10.0):
            offset = tp.offset if tp.offset >= 0 else OFFSET_BEGINNING
            try:
                self._consumer.seek(TopicPartition(tp.topic, tp.partition, offset))
            except KafkaException as exc:
                # not fetched yet since its assignment: it starts at the committed offset
                if exc.args[0].code() != KafkaError._STATE:
                    raise

    def away(self, exc: BaseException) -> bool:
        """Whether `exc` says Kafka is unreachable or not ready."""
        return kafka_away(exc)

    def close(self) -> None:
        """Leave the group."""
        self._consumer.close()
