"""Read the compacted alerts topic from the beginning and fold it to the current state per id."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from kafka import KafkaConsumer, TopicPartition

from ioc.core.schemas import Alert

__all__ = ["fold_alerts", "format_row", "load_alerts", "read_alerts"]

log = logging.getLogger(__name__)
_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def fold_alerts(current: dict[str, Alert], alert: Alert) -> bool:
    """Keep the newest version of each alert; returns whether `alert` was newer."""
    old = current.get(alert.id)
    if old is not None and old.version >= alert.version:
        return False
    current[alert.id] = alert
    return True


def format_row(a: Alert) -> str:
    """One table row, times shown in Asia/Ho_Chi_Minh."""
    issued = a.date_issued.astimezone(_TZ).strftime("%Y-%m-%d %H:%M")
    return (f"{issued}  {a.status:<12} {a.severity:<8} {a.rule:<26} {a.ward or '-':<10} "
            f"{a.subject:<20} {a.id}")


def _partitions(consumer: KafkaConsumer, topic: str) -> list[TopicPartition]:
    return [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]


def _decoded(batch: dict[TopicPartition, list[object]]) -> Iterator[Alert]:
    for records in batch.values():
        for rec in records:
            try:
                yield Alert.from_json(rec.value)  # type: ignore[attr-defined]
            except ValueError as exc:
                log.warning("skipping undecodable alert: %s", str(exc)[:200])


def read_alerts(bootstrap: str, topic: str, *, follow: bool,
                timeout_ms: int = 1000) -> Iterator[tuple[Alert | None, bool]]:
    """Yield (alert, caught_up); (None, True) once when the end of the topic is reached.

    A topic that does not exist yet counts as empty (and is never created here: an
    auto-created alerts topic would lack compaction); with `follow` it is waited for.
    """
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             group_id=None, allow_auto_create_topics=False)
    try:
        parts = _partitions(consumer, topic)
        if not parts:
            yield None, True
            if not follow:
                return
        while not parts:
            time.sleep(timeout_ms / 1000)  # waiting for the worker to create the topic
            parts = _partitions(consumer, topic)
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        end = consumer.end_offsets(parts)
        caught_up = all(consumer.position(tp) >= end[tp] for tp in parts)
        if caught_up:
            yield None, True
            if not follow:
                return
        while True:
            for alert in _decoded(consumer.poll(timeout_ms=timeout_ms)):
                yield alert, caught_up
            if not caught_up and all(consumer.position(tp) >= end[tp] for tp in parts):
                caught_up = True
                yield None, True
                if not follow:
                    return
    finally:
        consumer.close()


def load_alerts(bootstrap: str, topic: str) -> dict[str, Alert]:
    """The latest state of every alert on the topic (empty if it does not exist yet)."""
    current: dict[str, Alert] = {}
    for alert, _ in read_alerts(bootstrap, topic, follow=False):
        if alert is not None:
            fold_alerts(current, alert)
    return current
