"""Read the compacted alerts topic from the beginning and fold it to the current state per id."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from kafka import KafkaConsumer, TopicPartition

from ioc.schemas import Alert

__all__ = ["fold_alerts", "format_row", "read_alerts"]

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


def read_alerts(bootstrap: str, topic: str, *, follow: bool,
                timeout_ms: int = 1000) -> Iterator[tuple[Alert | None, bool]]:
    """Yield (alert, caught_up); (None, True) once when the end of the topic is reached."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             group_id=None, consumer_timeout_ms=-1)
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        end = consumer.end_offsets(parts) if parts else {}
        caught_up = all(consumer.position(tp) >= end[tp] for tp in parts)
        if caught_up:
            yield None, True
        while True:
            batch = consumer.poll(timeout_ms=timeout_ms)
            for records in batch.values():
                for rec in records:
                    try:
                        yield Alert.from_json(rec.value), caught_up
                    except ValueError as exc:
                        log.warning("skipping undecodable alert: %s", str(exc)[:200])
            if not caught_up and all(consumer.position(tp) >= end[tp] for tp in parts):
                caught_up = True
                yield None, True
                if not follow:
                    return
            if caught_up and not follow:
                return
    finally:
        consumer.close()
