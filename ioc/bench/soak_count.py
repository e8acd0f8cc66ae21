"""The soak's counts: distinct readings per device in Kafka and points per device in InfluxDB
(read at the end of the run), and removing the run's topics."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import requests
from kafka import KafkaConsumer

from ioc.core.errors import ServiceError
from ioc.core.kafka_auth import kafka_access
from ioc.core.settings import Settings
from ioc.core.topic_reader import read_topic, topic_partitions

__all__ = ["KafkaCount", "broker_drops", "count_in_influx", "count_in_kafka", "crossing_hops",
           "end_offsets", "first_alerts", "latency_summary"]


@dataclass(frozen=True, slots=True)
class KafkaCount:
    """Distinct (device, seq) readings on a topic, how many records repeated one, and the
    Kafka timestamps (epoch seconds) of the marked readings found."""

    distinct: int
    duplicates: int
    stamps: dict[str, float] = field(default_factory=dict)


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


def count_in_kafka(settings: Settings, topic: str, devices: Sequence[str],
                   marked: Mapping[str, int] | None = None) -> KafkaCount:
    """Read the whole topic once: one bit per (device, seq) seen, and the timestamp of each
    `marked` reading (device -> seq) when first seen."""
    seen = {d.encode(): bytearray() for d in devices}
    wanted = {d.encode(): seq for d, seq in (marked or {}).items()}
    stamps: dict[str, float] = {}
    distinct = duplicates = 0
    for rec in read_topic(lambda: _consumer(settings), topic, poll_ms=1000):
        key = rec.key or b""
        bits = seen.get(key)
        if bits is None or rec.value is None:
            continue  # not a soak device
        seq = int(orjson.loads(rec.value)["seq"])
        if seq >= len(bits):
            bits.extend(bytes(seq + 1 - len(bits)))
        if wanted.get(key) == seq and not bits[seq]:
            stamps[key.decode()] = rec.timestamp / 1000
        duplicates += bits[seq]
        distinct += 1 - bits[seq]
        bits[seq] = 1
    return KafkaCount(distinct, duplicates, stamps)


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


def first_alerts(settings: Settings, topic: str, sources: Collection[str],
                 rule: str = "flood.level") -> dict[str, float]:
    """The Kafka timestamp (epoch seconds) of each source's first `rule` alert, read from
    the whole alerts topic."""
    first: dict[str, float] = {}
    for rec in read_topic(lambda: _consumer(settings), topic, poll_ms=1000):
        doc = orjson.loads(rec.value or b"{}")
        source = doc.get("alertSource")
        if doc.get("rule") == rule and source in sources:
            at = rec.timestamp / 1000
            first[source] = min(first.get(source, at), at)
    return first


def crossing_hops(sent: Mapping[str, float], produced: Mapping[str, float],
                  alerted: Mapping[str, float]) -> dict[str, list[float]]:
    """Seconds per crossing, sorted: publish → alert, and its two parts where the bridge's
    record was found: publish → the bridge's produce call (MQTT, the broker, the bridge)
    and produce → alert (Kafka, the worker's fetch, rules and checkpoint)."""
    both = [d for d in alerted if d in sent and d in produced]
    return {"publish → alert": sorted(alerted[d] - sent[d] for d in alerted if d in sent),
            "publish → produce": sorted(produced[d] - sent[d] for d in both),
            "produce → alert": sorted(alerted[d] - produced[d] for d in both)}


def latency_summary(seconds: list[float], expected: int) -> dict[str, float]:
    """count, missing, p50/p99/max in ms of sorted latencies."""
    if not seconds:
        return {"count": 0, "missing": expected}
    pick = lambda q: round(seconds[min(len(seconds) - 1, int(q * len(seconds)))] * 1000, 1)  # noqa: E731
    return {"count": len(seconds), "missing": expected - len(seconds), "p50_ms": pick(0.5),
            "p99_ms": pick(0.99), "max_ms": round(seconds[-1] * 1000, 1)}


def broker_drops(log: Path, client_id: str) -> int:
    """How often Mosquitto's log says it dropped messages queued for `client_id` (or one of
    its members): its per-client queue limits overflowed, so they never reached the bridge."""
    marker = f"Outgoing messages are being dropped for client {client_id}"
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return 0  # not the project's own Mosquitto: nothing to say
    return text.count(marker)
