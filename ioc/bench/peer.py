"""`ioc bench --only peer`: the same MQTT backlog drained into Kafka by our bridge and by
Telegraf (mqtt_consumer → outputs.kafka, at-least-once: QoS 1, persistent session, acks
after the output wrote), interleaved round by round, on the same Mosquitto and Kafka; then
the same feed live, published by three gateways while each drainer runs (`peer_live`)."""

from __future__ import annotations

import logging
import os
import shutil
import statistics
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from ioc.bench.bridge import (
    PROBE_SEQ,
    _bridge,
    _Opts,
    expected_keys,
    queue_backlog,
    traffic_key,
)
from ioc.bench.drain import DrainProbe, measure_drain
from ioc.bench.loadgen import (
    Collected,
    Collector,
    sequenced,
    session_ended,
    traffic_devices,
)
from ioc.bench.peer_config import telegraf_kafka_config
from ioc.bench.peer_influx import influx_round
from ioc.bench.peer_live import live_into, per_gateway, probe_through
from ioc.bench.trials import PROBLEMS
from ioc.core.errors import ServiceError
from ioc.core.kafka_admin import ensure_topics
from ioc.core.kafka_auth import kafka_access
from ioc.core.mqtt_identities import MqttLogin
from ioc.core.registry import Device, dump_registry
from ioc.core.settings import Settings
from ioc.ingest.router import KafkaTopics
from ioc.testing.mqtt_logins import run_gateway, run_gateways

__all__ = ["find_telegraf", "run_peer_bench"]

log = logging.getLogger(__name__)

BUILD_HINT = "build it with `make telegraf` (deploy/local/build_telegraf.sh) or put it on PATH"


def find_telegraf() -> Path | None:
    """`telegraf` on PATH, else the newest one deploy/local/build_telegraf.sh cached."""
    found = shutil.which("telegraf")
    if found:
        return Path(found)
    cache = Path(os.environ.get("IOC_CACHE_DIR", Path.home() / ".cache" / "ioc"))
    built = sorted(cache.glob("telegraf-v*/telegraf"))
    return built[-1] if built else None


def telegraf_key(rec: Collected) -> tuple[str, int] | None:
    """(device id, seq) of a Telegraf JSON metric: the MQTT topic tag and the seq field."""
    try:
        doc = orjson.loads(rec.value)
        seq = int(doc["fields"]["seq"])
        return (doc["tags"]["topic"].split("/")[3], seq) if seq < PROBE_SEQ else None
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None


@contextmanager
def _telegraf(binary: Path, config: str, tmp: Path) -> Iterator[Sequence[int]]:
    path = tmp / "telegraf.conf"
    path.write_text(config)
    path.chmod(0o600)  # it holds the MQTT and Kafka passwords
    with (tmp / "telegraf.log").open("ab") as out:
        proc = subprocess.Popen([str(binary), "--config", str(path)], stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        yield [proc.pid]
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _round(settings: Settings, binary: Path, n: int, processes: int, influx: bool,
           say: Callable[[str], None], worker_processes: int = 1) -> dict[str, Any]:
    """One round: the same backlog through the bridge, then through Telegraf, into Kafka;
    with `influx` also into InfluxDB (bridge + worker against Telegraf)."""
    run = uuid.uuid4().hex[:8]
    topics = KafkaTopics.prefixed(f"bench-{run}-")  # the prefix _bridge gives the bridge
    peer_topic = f"peer-{run}-telegraf"
    devs = traffic_devices(f"peer{run}-", 50)
    messages = sequenced(devs, max(1, n // len(devs)))
    ensure_topics(kafka_access(settings), [topics.telemetry, topics.deadletter,
                                             topics.device_status, peer_topic],
                  settings.kafka_partitions)
    expected = expected_keys(messages)
    gateway = run_gateway(settings, f"gwp-{run}", "traffic", [(d.domain, d.id) for d in devs])
    with tempfile.TemporaryDirectory() as tmp_dir, gateway as login:
        tmp = Path(tmp_dir)
        registry = tmp / "devices.yaml"
        dump_registry(devs, registry)
        ours = _Opts(settings, run, topics, registry, False, None, 5, tmp, processes,
                     "librdkafka")
        say(f"bridge ({processes} process(es)): draining {len(messages)} messages…")
        with session_ended(settings, f"bench-{run}-bridge", processes):
            bridge = _drain_into(settings, login, topics.telemetry, messages, expected,
                                 traffic_key, lambda: _bridge(ours), "bridge")
        client_id = f"peer-{run}-telegraf"
        config = telegraf_kafka_config(settings, client_id, peer_topic,
                                       [t for t, _ in messages[:len(devs)]])
        say(f"telegraf: draining {len(messages)} messages…")
        with session_ended(settings, client_id):
            peer = _drain_into(settings, login, peer_topic, messages, expected, telegraf_key,
                               lambda: _telegraf(binary, config, tmp), "telegraf")
        live = _live(settings, binary, ours, devs, messages, expected, say)
        stored: dict[str, Any] = {PROBLEMS: []}
        if influx:
            stored = influx_round(settings, login, devs, registry, tmp, n, processes,
                                  lambda cfg: _telegraf(binary, cfg, tmp), say,
                                  worker_processes)
    return {**bridge, **peer, **live, **stored,
            PROBLEMS: [*bridge[PROBLEMS], *peer[PROBLEMS], *live[PROBLEMS], *stored[PROBLEMS]]}


def _live(settings: Settings, binary: Path, ours: _Opts, devs: Sequence[Device],
          messages: list[tuple[str, bytes]], expected: set[tuple[str, int]],
          say: Callable[[str], None]) -> dict[str, Any]:
    """The live part: the same feed published by three gateways while the drainer runs;
    each drainer gets a fresh session and topic."""
    run = f"{ours.run}l"
    topics = KafkaTopics.prefixed(f"bench-{run}-")
    peer_topic = client_id = f"peer-{run}-telegraf"  # Telegraf's session and its topic
    ensure_topics(kafka_access(settings), [topics.telemetry, topics.deadletter,
                                             topics.device_status, peer_topic],
                  settings.kafka_partitions)
    live_opts = replace(ours, run=run, topics=topics)
    ids = [d.id for d in devs]
    with run_gateways(settings, f"gwl-{ours.run}-", "traffic", ids,
                      per_gateway(len(ids))) as gateways:
        say(f"bridge ({ours.processes} process(es)): {len(messages)} messages live, "
            f"{len(gateways)} publishers…")
        with session_ended(settings, f"bench-{run}-bridge", ours.processes):
            bridge = live_into(settings, gateways, topics.telemetry, messages, expected,
                               traffic_key, lambda: _bridge(live_opts), "kafka_live_bridge")
        config = telegraf_kafka_config(settings, client_id, peer_topic,
                                       [t for t, _ in messages[:len(devs)]])
        say(f"telegraf: {len(messages)} messages live, {len(gateways)} publishers…")
        with session_ended(settings, client_id):
            peer = live_into(settings, gateways, peer_topic, messages, expected, telegraf_key,
                             lambda: _telegraf(binary, config, ours.tmp),
                             "kafka_live_telegraf")
    return {**bridge, **peer, PROBLEMS: [*bridge[PROBLEMS], *peer[PROBLEMS]]}


def _drain_into(settings: Settings, login: MqttLogin, topic: str,
                messages: list[tuple[str, bytes]], expected: set[tuple[str, int]],
                identify: Callable[[Collected], tuple[str, int] | None],
                start: Callable[[], Any], label: str) -> dict[str, Any]:
    """Let the drainer make its session, queue the backlog in it, then time the drain."""
    collector = Collector(kafka_access(settings), [topic], f"{label}-{uuid.uuid4().hex[:6]}")
    try:
        with start():  # until a probe went through: the session and its subscriptions exist
            probe_through(settings, login, messages[0][0], collector, topic, label)
        queue_backlog(settings, login, messages, 300)
        probe = DrainProbe(collector, topic, identify)
        return measure_drain(probe, expected, start, 300, f"kafka_{label}")
    finally:
        collector.close()


def _ratios(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for ours, theirs, name in (("kafka_bridge_msgs_per_s", "kafka_telegraf_msgs_per_s",
                                "ratio_kafka_rate"),
                               ("kafka_bridge_cpu_s_per_10k", "kafka_telegraf_cpu_s_per_10k",
                                "ratio_kafka_cpu"),
                               ("kafka_live_bridge_msgs_per_s", "kafka_live_telegraf_msgs_per_s",
                                "ratio_kafka_live_rate"),
                               ("kafka_live_bridge_cpu_s_per_10k",
                                "kafka_live_telegraf_cpu_s_per_10k", "ratio_kafka_live_cpu"),
                               ("influx_bridge_worker_readings_per_s",
                                "influx_telegraf_readings_per_s", "ratio_influx_rate"),
                               ("influx_bridge_worker_cpu_s_per_10k_with_startup",
                                "influx_telegraf_cpu_s_per_10k_with_startup",
                                "ratio_influx_cpu")):
        values = [r[ours] / r[theirs] for r in rounds if r.get(ours) and r.get(theirs)]
        if values:
            out[name] = {"min": round(min(values), 3),
                         "median": round(statistics.median(values), 3),
                         "max": round(max(values), 3)}
    return out


def run_peer_bench(settings: Settings, n: int = 100_000, *, runs: int = 3,
                   bridge_processes: int = 1, influx: bool = True, worker_processes: int = 1,
                   progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """`runs` rounds of bridge vs Telegraf on a backlog of `n`; skipped without Telegraf."""
    say = progress or (lambda text: log.info("%s", text))
    binary = find_telegraf()
    if binary is None:
        return {"skipped": f"no telegraf binary: {BUILD_HINT}"}
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True,
                             timeout=30, check=False).stdout.strip()
    rounds = []
    for i in range(1, runs + 1):
        say(f"round {i}/{runs}")
        rounds.append(_round(settings, binary, n, bridge_processes, influx, say,
                             worker_processes))
    spread: dict[str, Any] = {}
    for key in rounds[0]:
        values = [r[key] for r in rounds]
        if key != PROBLEMS and all(isinstance(v, int | float) for v in values):
            spread[key] = {"min": min(values), "median": statistics.median(values),
                           "max": max(values)}
    problems = [f"round {i}: {p}" for i, r in enumerate(rounds, 1) for p in r[PROBLEMS]]
    if not problems and not rounds:
        raise ServiceError("peer: no round ran")
    return {"telegraf": version or str(binary), "messages": n, "rounds": runs,
            "kafka_path": "MQTT backlog → Kafka", "influx_path": "MQTT backlog → InfluxDB "
            "(bridge + worker: contract, rules, alerts, storage) vs Telegraf" if influx else
            "not run",
            "bridge_processes": bridge_processes, "worker_processes": worker_processes,
            **spread, **_ratios(rounds),
            PROBLEMS: problems}
