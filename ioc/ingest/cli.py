"""`ioc bridge`: MQTT → Kafka, configured from Settings (`IOC_BRIDGE_*`) and flags."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import click

from ioc.core.heap import settle_heap
from ioc.core.logging import setup_logging
from ioc.core.process_group import Member, run_group
from ioc.core.settings import Settings, load_settings
from ioc.ingest.bridge import Bridge, SinkFactory
from ioc.ingest.config import bridge_config, default_client_id, load_bridge_registry
from ioc.ingest.kafka_sink import DEFAULT_LINGER_MS, KafkaSink
from ioc.ingest.members import SOLO, Membership
from ioc.ingest.router import KafkaTopics

__all__ = ["bridge", "sink_factory"]

log = logging.getLogger(__name__)

_COMPRESSION = click.Choice(["none", "gzip", "snappy", "lz4", "zstd"])
_KAFKA_CLIENTS = click.Choice(["librdkafka", "kafka-python"])
# 1, not the core count: on a 2-core machine that also runs Mosquitto and Kafka, 2 members
# drained no faster than 1 (docs/architecture.md), and a new N means new client ids whose
# sessions do not hold what the old layout's sessions still queue.
DEFAULT_PROCESSES = 1


def sink_factory(kafka_client: str) -> SinkFactory:
    """The producer adapter: confluent-kafka (librdkafka, C) or kafka-python (pure Python)."""
    if kafka_client == "kafka-python":
        return KafkaSink
    from ioc.ingest.rdkafka_sink import RdKafkaSink
    return RdKafkaSink


def _topics(prefix: str) -> KafkaTopics:
    return KafkaTopics.prefixed(prefix) if prefix else KafkaTopics()


def _expiry(o: dict[str, Any], settings: Settings) -> int:
    """--session-expiry, else IOC_BRIDGE_SESSION_EXPIRY (0 is a valid choice)."""
    value = o["session_expiry"]
    return settings.bridge_session_expiry if value is None else int(value)


def _member_argv(o: dict[str, Any], member: Membership, client_id: str, group: str,
                 port: int, registry: Path) -> tuple[str, ...]:
    """A member's command line: the parent's options, its own id, port and slice."""
    own_port = port if port <= 0 else port + member.index
    return ("--member", f"{member.index}/{member.count}",
            "--client-id", member.client_id(client_id), "--share-group", group,
            "--metrics-port", str(own_port), "--registry", str(registry),
            "--topic-prefix", o["topic_prefix"], "--linger-ms", str(o["linger_ms"]),
            "--batch-size", str(o["batch_size"]), "--compression", o["compression"],
            "--receive-maximum", str(o["receive_maximum"]),
            "--session-expiry", str(o["session_expiry"]),
            # retained status once, not once per member
            "--status" if o["status"] and member.index == 0 else "--no-status",
            "--kafka-client", o["kafka_client"], "--log-level", o["log_level"],
            "--log-format", o["log_format"])


def _run_members(count: int, o: dict[str, Any], settings: Settings, port: int) -> None:
    client_id = o["client_id"] or settings.bridge_client_id or default_client_id(settings)
    group = settings.mqtt_share_group if o["share_group"] is None else o["share_group"]
    registry = o["registry"] or settings.registry
    load_bridge_registry(registry)  # a clear error here rather than N of them
    o = {**o, "session_expiry": _expiry(o, settings),
         "log_level": o["log_level"] or settings.log_level,
         "log_format": o["log_format"] or settings.log_format}
    log.info("bridge: %d member processes (%s)", count,
             f"$share group {group}" if group else "devices split between unshared sessions")
    members = [Member(i, (sys.executable, "-m", "ioc.ingest",
                          *_member_argv(o, Membership(i, count), client_id, group, port,
                                        registry))) for i in range(count)]
    raise SystemExit(run_group("bridge", members))


@click.command("bridge")
@click.option("--client-id", default=None,
              help="MQTT client id, unique and stable per instance; keep it secret "
                   "[default: IOC_BRIDGE_CLIENT_ID, else ioc-bridge-HOST-<tag keyed with "
                   "IOC_BRIDGE_ID_TAG>]. Members add -m<i>of<N>.")
@click.option("--share-group", default=None,
              help="MQTT v5 shared-subscription group [default: IOC_MQTT_SHARE_GROUP]; "
                   "'' subscribes unshared. With --processes > 1 a group makes the members "
                   "share it; Mosquitto 2.0 keeps no $share subscription over a broker "
                   "crash, so the default splits devices between unshared sessions.")
@click.option("--processes", type=click.IntRange(min=1), default=DEFAULT_PROCESSES,
              show_default=True,
              help="Bridge member processes on this machine (docs/architecture.md); "
                   "change it only with the old layout's sessions drained.")
@click.option("--member", default=None, hidden=True,
              help="INDEX/COUNT: run as one member of --processes (set by the parent).")
@click.option("--metrics-port", type=int, default=None,
              help="Port of /metrics and /ready (0: any free, -1: off; member i uses "
                   "PORT+i) [default: IOC_BRIDGE_METRICS_PORT, 9108].")
@click.option("--registry", type=click.Path(path_type=Path), default=None,
              help="Device registry YAML [default: IOC_REGISTRY].")
@click.option("--topic-prefix", default="", help="Prefix for the Kafka topic names.")
@click.option("--linger-ms", type=int, default=DEFAULT_LINGER_MS, show_default=True,
              help="How long the Kafka producer gathers records into a batch: longer costs "
                   "latency, shorter costs CPU per record (docs/architecture.md).")
@click.option("--batch-size", type=int, default=256 * 1024, show_default=True)
@click.option("--compression", type=_COMPRESSION, default="none", show_default=True)
@click.option("--receive-maximum", type=int, default=4000, show_default=True,
              help="Most unacked MQTT messages in flight to this instance.")
@click.option("--session-expiry", type=int, default=None,
              help="Seconds the broker keeps this instance's session (and queues its "
                   "messages) while it is away [default: IOC_BRIDGE_SESSION_EXPIRY, 7 days].")
@click.option("--status/--no-status", default=True, show_default=True,
              help="Also bridge the retained device status topics (unshared).")
@click.option("--kafka-client", type=_KAFKA_CLIENTS, default="librdkafka", show_default=True,
              help="Kafka producer: librdkafka (confluent-kafka, ~7x less CPU per record) "
                   "or kafka-python.")
@click.option("--log-level", default=None, help="[default: IOC_LOG_LEVEL]")
@click.option("--log-format", type=click.Choice(["text", "json"]), default=None,
              help="[default: IOC_LOG_FORMAT, text]")
def bridge(**o: Any) -> None:
    """Bridge device telemetry and status from MQTT to Kafka, losing nothing."""
    settings = load_settings()
    setup_logging(o["log_level"] or settings.log_level, o["log_format"] or settings.log_format)
    port = settings.bridge_metrics_port if o["metrics_port"] is None else o["metrics_port"]
    if o["member"] is None and o["processes"] > 1:
        _run_members(o["processes"], o, settings, port)
    registry = o["registry"] or settings.registry
    devices = load_bridge_registry(registry)
    member = Membership.parse(o["member"]) if o["member"] else SOLO
    group = settings.mqtt_share_group if o["share_group"] is None else o["share_group"]
    split = SOLO if group else member  # a $share group spreads the load by itself
    config = bridge_config(
        settings, client_id=o["client_id"] or settings.bridge_client_id,
        share_group=o["share_group"], topics=_topics(o["topic_prefix"]),
        metrics_port=None if port < 0 else port, linger_ms=o["linger_ms"],
        batch_size=o["batch_size"],
        compression=None if o["compression"] == "none" else o["compression"],
        receive_maximum=o["receive_maximum"], status=o["status"],
        session_expiry_s=_expiry(o, settings),
        telemetry_topics=split.telemetry_topics(devices),
        skip_devices=split.skipped_devices(devices))
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("bridge: %s received, draining", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("bridge %s: %d devices in %s%s", config.bridge_id, len(devices), registry,
             "" if member.solo else f" (member {member.index}/{member.count})")
    bridge = Bridge(config, devices, sink_factory=sink_factory(o["kafka_client"]))
    settle_heap(settings.gc_young_threshold)  # the registry and clients live as long as we do
    bridge.run(stop)
