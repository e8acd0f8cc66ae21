"""The soak's counts: distinct readings per device in Kafka and points per device in InfluxDB
(read at the end of the run), and removing the run's topics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson
import requests
from kafka import KafkaConsumer

from ioc.core.errors import ServiceError
from ioc.core.kafka_auth import kafka_access
from ioc.core.settings import Settings
from ioc.core.topic_reader import read_topic, topic_partitions

__all__ = ["KafkaCount", "alert_latencies", "broker_drops", "count_in_influx", "count_in_kafka",
           "end_offsets"]


@dataclass(frozen=True, slots=True)
class KafkaCount:
    """Distinct (device, seq) readings on a topic, and how many records repeated one."""

    distinct: int
    duplicates: int


def _consumer(settings: Settings) -> KafkaConsumer:
    return KafkaConsumer(**kafka_access(settings).client_options(), group_id=None,
                         enable_auto_commit=False, max_poll_records=10_000)


def end_offsets(settings: Settings, topic: str) -> int:
    """Records on a topic (the sum of its partitions' end offsets)."""
    consumer = _consumer(settings)
    try:
        parts = topic_partitions(consumer, topic)
        return sum(consumer.end_offsets(parts).values()) if parts else 0
    finally:
        consumer.close()


def count_in_kafka(settings: Settings, topic: str, devices: Sequence[str]) -> KafkaCount:
    """Read the whole topic once: one bit per (device, seq) seen."""
    seen = {d.encode(): bytearray() for d in devices}
    distinct = duplicates = 0
    for rec in read_topic(lambda: _consumer(settings), topic, poll_ms=1000):
        bits = seen.get(rec.key or b"")
        if bits is None or rec.value is None:
            continue  # not a soak device
        seq = int(orjson.loads(rec.value)["seq"])
        if seq >= len(bits):
            bits.extend(bytes(seq + 1 - len(bits)))
        duplicates += bits[seq]
        distinct += 1 - bits[seq]
        bits[seq] = 1
    return KafkaCount(distinct, duplicates)


def count_in_influx(settings: Settings, database: str, measurement: str) -> dict[str, int]:
    """Points per device in one measurement (InfluxQL through /query, read-only token)."""
    response = requests.get(f"{settings.influx_url}/query", timeout=300, params={
        "db": database, "q": f'SELECT count("seq") FROM "{measurement}" GROUP BY "device"'},
        headers={"Authorization": f"Token {settings.influx_token_for('read')}"})
    if response.status_code != 200:
        raise ServiceError(f"InfluxDB count failed: HTTP {response.status_code}")
    result = response.json()["results"][0]
    if "error" in result:
        raise ServiceError(f"InfluxDB count failed: {result['error']}")
    return {s["tags"]["device"]: int(s["values"][0][1]) for s in result.get("series", [])}


def alert_latencies(settings: Settings, topic: str, sent_at: dict[str, float],
                    rule: str = "flood.level") -> list[float]:
    """Seconds from publishing each device's crossing (`sent_at`, epoch seconds) to its
    first `rule` alert's Kafka timestamp, read from the whole alerts topic."""
    first: dict[str, float] = {}
    for rec in read_topic(lambda: _consumer(settings), topic, poll_ms=1000):
        doc = orjson.loads(rec.value or b"{}")
        source = doc.get("alertSource")
        if doc.get("rule") == rule and source in sent_at:
            at = rec.timestamp / 1000
            first[source] = min(first.get(source, at), at)
    return [at - sent_at[d] for d, at in first.items()]


def broker_drops(log: Path, client_id: str) -> int:
    """How often Mosquitto's log says it dropped messages queued for `client_id` (or one of
    its members): its per-client queue limits overflowed, so they never reached the bridge."""
    marker = f"Outgoing messages are being dropped for client {client_id}"
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return 0  # not the project's own Mosquitto: nothing to say
    return text.count(marker)
