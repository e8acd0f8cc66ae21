"""Bridge benchmark: MQTT → bridge → Kafka against kafka-python producing straight to Kafka."""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from kafka import KafkaProducer

from ioc.bench.drain import DrainProbe, count_problems, measure_drain
from ioc.bench.loadgen import (
    BridgeProcess,
    Collected,
    Collector,
    Publisher,
    sequenced,
    session_ended,
    traffic_devices,
)
from ioc.bench.trials import PROBLEMS
from ioc.core.errors import ServiceError
from ioc.core.kafka_admin import ensure_topics
from ioc.core.kafka_auth import kafka_access
from ioc.core.mqtt_identities import MqttLogin
from ioc.core.registry import dump_registry
from ioc.core.settings import Settings
from ioc.ingest.bridge import Bridge
from ioc.ingest.config import bridge_config
from ioc.ingest.kafka_sink import DEFAULT_LINGER_MS, SinkConfig
from ioc.ingest.router import KafkaTopics
from ioc.testing.mqtt_logins import run_gateway

__all__ = ["PROBE_SEQ", "expected_keys", "queue_backlog", "run_bridge_bench", "traffic_key"]

log = logging.getLogger(__name__)


def run_bridge_bench(settings: Settings, n_messages: int = 20_000, *, devices: int = 50,
                     in_process: bool = False, compression: str | None = None,
                     linger_ms: int = DEFAULT_LINGER_MS, timeout_s: float = 300.0,
                     processes: int = 1,
                     kafka_client: str = "librdkafka",
                     progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Messages/s through the bridge and through a direct producer, measured in one run.

    The bridge runs as in production: unshared persistent sessions, `processes` members.
    """
    say = progress or (lambda text: log.info("%s", text))
    run = uuid.uuid4().hex[:8]
    topics = KafkaTopics.prefixed(f"bench-{run}-")
    baseline_topic = f"bench-{run}-baseline"
    devs = traffic_devices(f"bench{run}-", devices)
    messages = sequenced(devs, max(1, n_messages // devices))
    ensure_topics(kafka_access(settings), [topics.telemetry, topics.deadletter,
                                             topics.device_status, baseline_topic],
                  settings.kafka_partitions)
    sink = SinkConfig(kafka_access(settings), f"bench-{run}", linger_ms=linger_ms,
                      compression=compression)
    say(f"baseline: {len(messages)} records straight to Kafka…")
    baseline = _baseline(settings, sink, baseline_topic, messages, timeout_s)
    say(f"bridge: {len(messages)} messages MQTT → bridge → Kafka…")
    gateway = run_gateway(settings, f"gwb-{run}", "traffic", [(d.domain, d.id) for d in devs])
    with tempfile.TemporaryDirectory() as tmp, gateway as login:
        registry_file = Path(tmp) / "devices.yaml"
        dump_registry(devs, registry_file)
        opts = _Opts(settings, run, topics, registry_file, in_process, compression, linger_ms,
                     Path(tmp), processes, kafka_client)
        # the session is kept for the drain; left, it would queue every later message
        # until it expires (a week for the in-process bridge)
        with session_ended(settings, f"bench-{run}-bridge", processes):
            with _bridge(opts):
                bridged = _through_bridge(settings, login, run, topics.telemetry, messages,
                                          timeout_s)
            say("bridge drain: the same messages queued in its session first…")
            drain = _drain(settings, login, run, topics, messages, timeout_s,
                           lambda: _bridge(opts))
    return {
        "messages": len(messages),
        "devices": devices,
        "compression": compression or "none",
        "linger_ms": linger_ms,
        "bridge_in_process": in_process,
        "bridge_processes": processes,
        "kafka_client": kafka_client,
        "bridge_msgs_per_s": round(bridged["rate"]),
        "mqtt_publish_msgs_per_s": round(bridged["publish_rate"]),
        "bridge_missing": bridged["missing"],
        "bridge_duplicates": bridged["duplicates"],
        **{k: v for k, v in drain.items() if k != PROBLEMS},
        "baseline_msgs_per_s": round(baseline),
        "ratio_bridge_to_baseline": round(bridged["rate"] / baseline, 3),
        "ratio_drain_to_baseline": round(drain["bridge_drain_msgs_per_s"] / baseline, 3),
        PROBLEMS: [*bridged["problems"], *drain[PROBLEMS]],
    }


def _baseline(settings: Settings, sink: SinkConfig, topic: str,
              messages: list[tuple[str, bytes]], timeout_s: float) -> float:
    """kafka-python alone: the same payloads, keys and producer settings as the bridge."""
    collector = Collector(kafka_access(settings), [topic], f"bench-{topic}")
    producer = KafkaProducer(**sink.producer_options())
    try:
        keys = [t.split("/")[3].encode() for t, _ in messages]
        started = time.perf_counter()
        for key, (_, payload) in zip(keys, messages, strict=True):
            producer.send(topic, value=payload, key=key)
        producer.flush()
        if not collector.wait(topic, len(messages), timeout_s):
            raise ServiceError(f"baseline: only {collector.count(topic)} of "
                               f"{len(messages)} records arrived")
        return len(messages) / (collector.last_at - started)
    finally:
        producer.close()
        collector.close()


def _through_bridge(settings: Settings, login: MqttLogin, run: str, topic: str,
                    messages: list[tuple[str, bytes]], timeout_s: float) -> dict[str, Any]:
    collector = Collector(kafka_access(settings), [topic], f"bench-{run}-bridge")
    publisher = Publisher(settings, login)
    try:
        started = time.perf_counter()
        publisher.publish_all(messages)
        publisher.wait_acked(timeout_s)
        published = time.perf_counter()
        collector.wait(topic, len(messages), timeout_s)
        elapsed = collector.last_at - started
        missing, duplicates, problems = count_problems(
            [traffic_key(r) for r in collector.records[topic]], expected_keys(messages))
        return {"rate": collector.count(topic) / elapsed,
                "publish_rate": len(messages) / (published - started),
                "missing": missing, "duplicates": duplicates,
                "problems": [f"bridge live: {p}" for p in problems]}
    finally:
        publisher.close()
        collector.close()


# start-up probes carry this seq (a valid one): recognised, and never counted
PROBE_SEQ = 1_000_000_000


def traffic_key(rec: Collected) -> tuple[str, int] | None:
    """(device id, seq) of a bridged traffic reading."""
    try:
        seq = int(orjson.loads(rec.value)["seq"])
        return ((rec.key or b"").decode(), seq) if seq < PROBE_SEQ else None
    except (ValueError, KeyError, TypeError):
        return None


def expected_keys(messages: list[tuple[str, bytes]]) -> set[tuple[str, int]]:
    """(device id, seq) of every published message."""
    return {(t.split("/")[3], int(orjson.loads(p)["seq"])) for t, p in messages}


def queue_backlog(settings: Settings, login: MqttLogin, messages: list[tuple[str, bytes]],
                  timeout_s: float) -> None:
    """Publish and wait for every PUBACK: the messages now wait in the drainer's session."""
    publisher = Publisher(settings, login)
    try:
        publisher.publish_all(messages)
        if not publisher.wait_acked(timeout_s) or publisher.refused:
            raise ServiceError(f"backlog: broker acked {publisher.acked} of {publisher.sent}, "
                               f"refused {publisher.refused}")
    finally:
        publisher.close()


def _drain(settings: Settings, login: MqttLogin, run: str, topics: KafkaTopics,
           messages: list[tuple[str, bytes]], timeout_s: float,
           bridge: Callable[[], AbstractContextManager[Sequence[int]]]) -> dict[str, Any]:
    """Bridge capacity without a live publisher competing for the CPU: messages wait in
    the bridge's persistent MQTT session, then one bridge start drains them."""
    queue_backlog(settings, login, messages, timeout_s)
    collector = Collector(kafka_access(settings), [topics.telemetry], f"bench-{run}-drain")
    try:
        collector.wait(topics.telemetry, len(messages), 30)  # the live run's records
        probe = DrainProbe(collector, topics.telemetry, traffic_key)
        return measure_drain(probe, expected_keys(messages), bridge, timeout_s, "bridge_drain")
    finally:
        collector.close()


@dataclass(frozen=True, slots=True)
class _Opts:
    """How to start the bridge under test."""

    settings: Settings
    run: str
    topics: KafkaTopics
    registry_file: Path
    in_process: bool
    compression: str | None
    linger_ms: int
    tmp: Path
    processes: int
    kafka_client: str


def _with_children(pid: int) -> list[int]:
    """A process and its children (the members of `--processes N`)."""
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        kids = []
    return [pid, *(int(k) for k in kids)]


@contextmanager
def _bridge(o: _Opts) -> Iterator[Sequence[int]]:
    client_id = f"bench-{o.run}-bridge"
    if o.in_process:
        from ioc.ingest.cli import sink_factory
        from ioc.ingest.config import load_bridge_registry

        config = bridge_config(o.settings, client_id=client_id, share_group="",
                               topics=o.topics, linger_ms=o.linger_ms,
                               compression=o.compression, status=False)
        with _in_process(Bridge(config, load_bridge_registry(o.registry_file),
                                sink_factory=sink_factory(o.kafka_client))):
            yield [os.getpid()]
        return
    proc = BridgeProcess(["--client-id", client_id, "--share-group", "",
                          "--registry", str(o.registry_file), "--topic-prefix",
                          f"bench-{o.run}-", "--linger-ms", str(o.linger_ms), "--compression",
                          o.compression or "none", "--no-status", "--kafka-client",
                          o.kafka_client], o.tmp / "bridge.log", members=o.processes)
    try:
        proc.wait_ready(60)
        yield _with_children(proc.pid)
    finally:
        proc.stop()  # its session is kept for the drain part; ended by run_bridge_bench


@contextmanager
def _in_process(bridge: Bridge) -> Iterator[None]:
    stop = threading.Event()
    thread = threading.Thread(target=bridge.run, args=(stop,), daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not bridge.ready():
        if time.monotonic() > deadline:
            raise ServiceError("in-process bridge not ready after 60s")
        time.sleep(0.05)
    try:
        yield
    finally:
        stop.set()
        thread.join(60)
