"""`ioc bridge` (MQTT → Kafka) and `bench_bridge` (bridge vs. direct-Kafka throughput)."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from types import FrameType

import click
import orjson

from ioc.core.logging import setup_logging
from ioc.core.settings import load_settings
from ioc.ingest.bridge import Bridge
from ioc.ingest.config import bridge_config, load_bridge_registry
from ioc.ingest.router import KafkaTopics

__all__ = ["bench_bridge", "bridge"]

log = logging.getLogger(__name__)

_COMPRESSION = click.Choice(["none", "gzip", "snappy", "lz4", "zstd"])


def _topics(prefix: str) -> KafkaTopics:
    return KafkaTopics.prefixed(prefix) if prefix else KafkaTopics()


@click.command("bridge")
@click.option("--client-id", envvar="IOC_BRIDGE_CLIENT_ID", default=None,
              help="MQTT client id, unique and stable per instance [default: ioc-bridge-HOST].")
@click.option("--share-group", envvar="IOC_BRIDGE_SHARE_GROUP", default=None,
              help="MQTT v5 shared-subscription group [default: IOC_MQTT_SHARE_GROUP]; "
                   "'' subscribes unshared.")
@click.option("--metrics-port", envvar="IOC_BRIDGE_METRICS_PORT", type=int, default=9108,
              show_default=True, help="Port of /metrics and /ready (0: any free, -1: off).")
@click.option("--registry", type=click.Path(path_type=Path), default=None,
              help="Device registry YAML [default: IOC_REGISTRY].")
@click.option("--topic-prefix", default="", help="Prefix for the Kafka topic names.")
@click.option("--linger-ms", type=int, default=5, show_default=True)
@click.option("--batch-size", type=int, default=256 * 1024, show_default=True)
@click.option("--compression", type=_COMPRESSION, default="none", show_default=True)
@click.option("--receive-maximum", type=int, default=4000, show_default=True,
              help="Most unacked MQTT messages in flight to this instance.")
@click.option("--session-expiry", envvar="IOC_BRIDGE_SESSION_EXPIRY", type=int,
              default=7 * 24 * 3600, show_default=True,
              help="Seconds the broker keeps this instance's session (and queues its "
                   "messages) while it is away.")
@click.option("--status/--no-status", default=True, show_default=True,
              help="Also bridge the retained device status topics (unshared).")
@click.option("--log-level", default=None, help="[default: IOC_LOG_LEVEL]")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def bridge(client_id: str | None, share_group: str | None, metrics_port: int,
           registry: Path | None, topic_prefix: str, linger_ms: int, batch_size: int,
           compression: str, receive_maximum: int, session_expiry: int, status: bool,
           log_level: str | None,
           log_format: str) -> None:
    """Bridge device telemetry and status from MQTT to Kafka, losing nothing."""
    settings = load_settings()
    setup_logging(log_level or settings.log_level, log_format)
    devices = load_bridge_registry(registry or settings.registry)
    config = bridge_config(
        settings, client_id=client_id, share_group=share_group, topics=_topics(topic_prefix),
        metrics_port=None if metrics_port < 0 else metrics_port, linger_ms=linger_ms,
        batch_size=batch_size, compression=None if compression == "none" else compression,
        receive_maximum=receive_maximum, status=status, session_expiry_s=session_expiry)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("bridge: %s received, draining", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("bridge %s: %d devices in %s", config.bridge_id, len(devices),
             registry or settings.registry)
    Bridge(config, devices).run(stop)


@click.command("bench-bridge")
@click.option("-n", "--messages", type=int, default=20_000, show_default=True)
@click.option("--devices", type=int, default=50, show_default=True)
@click.option("--compression", type=_COMPRESSION, default="none", show_default=True)
@click.option("--linger-ms", type=int, default=5, show_default=True)
@click.option("--in-process", is_flag=True, help="Run the bridge in this process.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def bench_bridge(messages: int, devices: int, compression: str, linger_ms: int,
                 in_process: bool, as_json: bool) -> None:
    """Throughput MQTT → bridge → Kafka, next to kafka-python producing straight to Kafka."""
    from ioc.bench.bridge import run_bridge_bench

    figures = run_bridge_bench(
        load_settings(), messages, devices=devices, in_process=in_process,
        compression=None if compression == "none" else compression, linger_ms=linger_ms,
        progress=lambda text: click.echo(text, err=True))
    if as_json:
        click.echo(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
        return
    for key, value in figures.items():
        click.echo(f"{key:>28}: {value}")
