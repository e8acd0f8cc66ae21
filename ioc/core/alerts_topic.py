"""The compacted alerts topic: one fold to the current state per alert id, and its reader.

`ioc.alerts` carries each alert's full current state on every change, keyed by alert id.
`AlertFold` is the only place that turns its records into state (the `ioc alerts` CLI, the
worker's restore and the API's live view all use it); `AlertsTopicReader` is the one
kafka-python reader that feeds it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from kafka import KafkaConsumer, TopicPartition

from ioc.core.city import TZ
from ioc.core.errors import ServiceError
from ioc.core.kafka_auth import KafkaAccess
from ioc.core.schemas import Alert
from ioc.core.topic_reader import (
    ConsumedRecord,
    TopicConsumer,
    assign_at,
    read_to_end,
    topic_partitions,
)

__all__ = ["AlertFold", "AlertsTopicReader", "Change", "Record", "Removed", "decode_record",
           "format_row", "load_alerts"]

log = logging.getLogger(__name__)


class Record(NamedTuple):
    """One record of the alerts topic, as read (a None value is a tombstone)."""

    key: bytes | None
    value: bytes | None
    partition: int = 0
    offset: int = -1


@dataclass(frozen=True, slots=True)
class Removed:
    """A tombstone took this alert away; `alert` is the last state it had."""

    alert: Alert


Change = Alert | Removed


def decode_record(key: bytes | None, value: bytes | None) -> Alert | str:
    """The alert a record carries, or the id a tombstone deletes; ValueError if neither."""
    if value is not None:
        return Alert.from_json(value)
    if not key:
        raise ValueError("tombstone without a key")
    return key.decode("utf-8")  # UnicodeDecodeError is a ValueError


class AlertFold:
    """The current state of every alert by id: a higher version wins, a tombstone deletes.

    Resolved alerts are state like any other and stay until a tombstone removes them.
    """

    def __init__(self, alerts: Iterable[Alert] = ()) -> None:
        self.alerts: dict[str, Alert] = {}
        self.undecodable = 0
        for alert in alerts:
            self.apply(alert)

    def apply(self, alert: Alert) -> bool:
        """Keep `alert` if it is newer than the state held for its id; whether it was."""
        old = self.alerts.get(alert.id)
        if old is not None and old.version >= alert.version:
            return False  # a replay or an out-of-order older state
        self.alerts[alert.id] = alert
        return True

    def remove(self, alert_id: str) -> Removed | None:
        """Delete one alert; what was removed, or None if it was not there."""
        old = self.alerts.pop(alert_id, None)
        return None if old is None else Removed(old)

    def apply_record(self, record: Record) -> Change | None:
        """Fold one raw record in; the change it made, or None (stale or undecodable)."""
        try:
            decoded = decode_record(record.key, record.value)
        except ValueError as exc:
            # one bad record must not stop the fold: count it, say where it is, go on
            self.undecodable += 1
            log.warning("skipping undecodable alert at %d/%d: %s", record.partition,
                        record.offset, str(exc)[:200])
            return None
        if isinstance(decoded, str):
            return self.remove(decoded)
        return decoded if self.apply(decoded) else None


def format_row(a: Alert) -> str:
    """One table row, times shown in the city's local time."""
    issued = a.date_issued.astimezone(TZ).strftime("%Y-%m-%d %H:%M")
    return (f"{issued}  {a.status:<12} {a.severity:<8} {a.rule:<26} {a.ward or '-':<10} "
            f"{a.subject:<20} {a.id}")


class AlertsTopicReader:
    """Reads the alerts topic from the beginning, then (with `follow`) every new record.

    A topic that does not exist yet counts as empty and is never created here (an
    auto-created alerts topic would lack compaction). The reader remembers how far it got,
    so after a failure a new `records()` call goes on from there instead of replaying.
    """

    def __init__(self, kafka: KafkaAccess, topic: str, *, poll_ms: int = 1000,
                 refresh_s: float = 30.0, client_id: str = "ioc-alerts-reader",
                 consumer_factory: Callable[..., Any] = KafkaConsumer) -> None:
        self.topic = topic
        self._kafka, self._client_id, self._factory = kafka, client_id, consumer_factory
        self._poll_ms = poll_ms
        self._ticks_per_refresh = max(1, int(refresh_s * 1000 / poll_ms))
        self._positions: dict[TopicPartition, int] = {}
        self.partitions_seen = 0  # partitions the last records() call found

    def records(self, *, follow: bool,
                stop: threading.Event | None = None) -> Iterator[Record | None]:
        """Yield every record, and None once on reaching the end of the topic as it was."""
        consumer = self._factory(**self._kafka.client_options(), group_id=None,
                                 enable_auto_commit=False, allow_auto_create_topics=False,
                                 auto_offset_reset="earliest", client_id=self._client_id)
        try:
            yield from self._session(consumer, follow, stop or threading.Event())
        finally:
            consumer.close()

    def _session(self, consumer: TopicConsumer, follow: bool,
                 stop: threading.Event) -> Iterator[Record | None]:
        parts = topic_partitions(consumer, self.topic)
        self.partitions_seen = len(parts)
        yield from self._handed(read_to_end(consumer, parts, start=self._positions,
                                            poll_ms=self._poll_ms, stop=stop))
        if stop.is_set():
            return
        yield None  # caught up (no topic yet means no alerts yet)
        if not follow:
            return
        while not parts:  # waiting for the worker to create the topic
            if stop.wait(self._poll_ms / 1000):
                return
            parts = topic_partitions(consumer, self.topic)
            if parts:
                assign_at(consumer, parts, self._positions)
        tick = 0
        while not stop.is_set():
            polled = consumer.poll(timeout_ms=self._poll_ms).values()
            yield from self._handed(rec for batch in polled for rec in batch)
            tick += 1
            if tick % self._ticks_per_refresh == 0:
                parts = self._refresh(consumer, parts)

    def _handed(self, records: Iterable[ConsumedRecord]) -> Iterator[Record]:
        for rec in records:
            yield Record(rec.key, rec.value, rec.partition, rec.offset)
            # read once the caller is done with it: a new session goes on from the next one
            self._positions[TopicPartition(self.topic, rec.partition)] = rec.offset + 1

    def _refresh(self, consumer: TopicConsumer,
                 parts: list[TopicPartition]) -> list[TopicPartition]:
        # manual assignment does not notice partitions added to the topic: look now and then
        found = topic_partitions(consumer, self.topic)
        if found and found != parts:
            log.info("partitions of %s changed to %d; reading the new ones", self.topic,
                     len(found))
            assign_at(consumer, found, self._positions)
            return found
        return parts


def load_alerts(kafka: KafkaAccess, topic: str, *, required: bool = False,
                timeout_s: float = 60.0,
                consumer_factory: Callable[..., Any] = KafkaConsumer) -> dict[str, Alert]:
    """The latest state of every alert on the topic (empty if it does not exist yet).

    `required`: the topic must exist (the worker created it), so "no partitions" is a
    metadata answer that failed, not an empty topic: ask again until `timeout_s`, then
    ServiceError. A worker restoring from a wrongly empty fold would open every open alert
    a second time.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        reader = AlertsTopicReader(kafka, topic, consumer_factory=consumer_factory)
        fold = AlertFold()
        for record in reader.records(follow=False):
            if record is not None:
                fold.apply_record(record)
        found = reader.partitions_seen > 0
        if found or not required:
            return fold.alerts
        if time.monotonic() >= deadline:
            raise ServiceError(f"{topic}: no partitions in the cluster's metadata after "
                               f"{timeout_s:.0f}s; cannot restore the alerts")
        log.warning("%s: no partitions in the metadata answer; asking again", topic)
        time.sleep(0.5)  # polling the cluster's metadata with a deadline
