"""`ioc bench --only peer`, live part: gateways publish the feed while the drainer (our
bridge, or Telegraf) runs, on the same cores, and the drainer must keep up.

The backlog part times a drainer alone; here it shares the machine with the publishers and
Mosquitto as it would in a city. The figures: the publishers' rate, the drainer's (first
publish to last record in Kafka), how far it trailed once publishing ended, and its CPU.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from ioc.bench.bridge import PROBE_SEQ
from ioc.bench.drain import DrainProbe, Identify, Key, count_problems, cpu_of
from ioc.bench.loadgen import Collector, Publisher, traffic_payload
from ioc.bench.publishers import PublisherPool
from ioc.bench.trials import PROBLEMS
from ioc.core.contract import split_topic
from ioc.core.errors import ServiceError
from ioc.core.kafka_auth import kafka_access
from ioc.core.mqtt_identities import MqttLogin
from ioc.core.settings import Settings

__all__ = ["LIVE_PUBLISHERS", "live_into", "per_gateway", "probe_through"]

LIVE_PUBLISHERS = 3  # gateways (MQTT connections) publishing at once
_FLUSH_EVERY = 64  # messages per write of the pool

Gateways = Sequence[tuple[MqttLogin, Sequence[str]]]


def per_gateway(devices: int, gateways: int = LIVE_PUBLISHERS) -> int:
    """Devices per gateway so that `devices` make `gateways` gateways."""
    return max(1, math.ceil(devices / gateways))


def probe_through(settings: Settings, login: MqttLogin, mqtt_topic: str,
                  collector: Collector, topic: str, label: str) -> None:
    """Publish probe readings (PROBE_SEQ, not counted) until one reaches Kafka."""
    publisher = Publisher(settings, login)
    deadline = time.monotonic() + 120
    try:
        while not collector.wait(topic, 1, 2.0):
            if time.monotonic() > deadline:
                raise ServiceError(f"{label}: no probe reached Kafka in 120 s")
            publisher.publish(mqtt_topic, traffic_payload(PROBE_SEQ))
    finally:
        publisher.close()


def _publish(settings: Settings, gateways: Gateways,
             messages: Sequence[tuple[str, bytes]], timeout_s: float) -> None:
    """Every message through its device's gateway, as fast as the acks allow."""
    pool = PublisherPool(settings, gateways, kind="wire")
    try:
        for i, (topic, payload) in enumerate(messages, 1):
            pool.publish(split_topic(topic)[1], topic, payload)
            if i % _FLUSH_EVERY == 0:
                pool.flush()
        if not pool.wait_acked(timeout_s) or pool.refused:
            raise ServiceError(f"live publishers: broker acked {pool.acked} of {pool.sent}, "
                               f"refused {pool.refused}")
    finally:
        pool.close()


def live_into(settings: Settings, gateways: Gateways, topic: str,
              messages: Sequence[tuple[str, bytes]], expected: set[Key], identify: Identify,
              start: Callable[[], AbstractContextManager[Sequence[int]]], label: str,
              timeout_s: float = 300.0) -> dict[str, Any]:
    """Start the drainer, wait for its probe in Kafka, then publish `messages` through the
    gateways while it runs; count what reached `topic` against `expected`."""
    collector = Collector(kafka_access(settings), [topic], f"{label}-{uuid.uuid4().hex[:6]}")
    try:
        with start() as pids:
            probe_through(settings, gateways[0][0], messages[0][0], collector, topic, label)
            probe = DrainProbe(collector, topic, identify)
            cpu0, started = cpu_of(pids), time.perf_counter()
            _publish(settings, gateways, messages, timeout_s)
            published = time.perf_counter()
            deadline = time.monotonic() + timeout_s
            while probe.counted() < len(expected) and time.monotonic() < deadline:
                time.sleep(0.02)
            cpu1, last_at = cpu_of(pids), collector.last_at
        keys = [k for k in map(identify, probe.new()) if k is not None]
        return _figures(label, keys, expected, started, published, last_at,
                        None if cpu0 is None or cpu1 is None else cpu1 - cpu0)
    finally:
        collector.close()


def _figures(label: str, keys: list[Key], expected: set[Key], started: float,
             published: float, last_at: float, cpu: float | None) -> dict[str, Any]:
    missing, duplicates, problems = count_problems(keys, expected)
    span = last_at - started
    return {f"{label}_msgs_per_s": round(len(keys) / span) if keys and span > 0 else 0,
            f"{label}_publish_msgs_per_s": round(len(expected) / (published - started)),
            # how long after the last PUBACK the last record reached Kafka: ~0 keeps up
            f"{label}_behind_s": round(max(0.0, last_at - published), 3),
            f"{label}_cpu_s_per_10k": None if cpu is None or not keys else
            round(cpu / len(keys) * 10_000, 3),
            f"{label}_missing": missing, f"{label}_duplicates": duplicates,
            PROBLEMS: [f"{label}: {p}" for p in problems]}
