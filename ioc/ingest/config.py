"""Build a BridgeConfig from Settings plus per-instance options; load the registry."""

from __future__ import annotations

import hashlib
import hmac
import socket
from pathlib import Path

from ioc.core.errors import ConfigError
from ioc.core.kafka_auth import kafka_access
from ioc.core.registry import Registry, load_registry
from ioc.core.settings import DEV_PLACEHOLDER, Settings, credentials_file
from ioc.core.topics import MQTT_STATUS_FILTER
from ioc.ingest.bridge import BridgeConfig
from ioc.ingest.kafka_sink import DEFAULT_LINGER_MS, SinkConfig
from ioc.ingest.mqtt_source import MqttConfig
from ioc.ingest.router import KafkaTopics

__all__ = ["bridge_config", "default_client_id", "instance_name", "load_bridge_registry"]


def instance_name() -> str:
    """This host's bridge instance name, shown in dead-letter headers and logs."""
    return f"ioc-bridge-{socket.gethostname()}"


def default_client_id(settings: Settings) -> str:
    """The instance name plus a tag keyed with IOC_BRIDGE_ID_TAG.

    Stable per host and independent of the MQTT password, so the persistent session (and
    its unacked messages) survives a restart and a password rotation; not guessable, so no
    one without the tag can aim at the session.
    """
    tag_key = settings.bridge_id_tag.get_secret_value() if settings.bridge_id_tag else ""
    if not tag_key or tag_key == DEV_PLACEHOLDER:
        raise ConfigError("IOC_BRIDGE_ID_TAG is not set: `ioc services up` writes one to "
                          f"{credentials_file()}; elsewhere set it to a random secret (e.g. "
                          "`openssl rand -hex 16`) or give the bridge IOC_BRIDGE_CLIENT_ID")
    tag = hmac.new(tag_key.encode(), instance_name().encode(), hashlib.sha256).hexdigest()[:16]
    return f"{instance_name()}-{tag}"


def load_bridge_registry(path: Path) -> Registry:
    """The device registry, or a ConfigError that says how to get one."""
    if not path.exists():
        raise ConfigError(f"device registry {path} not found: generate it (ioc sim catalog) "
                          "or pass --registry / set IOC_REGISTRY")
    return load_registry(path)


def bridge_config(settings: Settings, *, client_id: str | None = None,
                  share_group: str | None = None, topics: KafkaTopics | None = None,
                  metrics_port: int | None = None, linger_ms: int = DEFAULT_LINGER_MS,
                  batch_size: int = 256 * 1024, compression: str | None = None,
                  receive_maximum: int = 4000, status: bool = True,
                  session_expiry_s: int = 7 * 24 * 3600,
                  telemetry_topics: tuple[str, ...] | None = None,
                  skip_devices: frozenset[str] = frozenset()) -> BridgeConfig:
    """A BridgeConfig for this machine's services; `share_group=''` disables sharing."""
    cid = client_id or default_client_id(settings)
    name = client_id or instance_name()  # the secret-derived tag stays out of Kafka headers
    group = settings.mqtt_share_group if share_group is None else share_group
    mqtt = MqttConfig(
        host=settings.mqtt_host, port=settings.mqtt_port, username=settings.mqtt_username,
        password=settings.mqtt_password.get_secret_value(), client_id=cid,
        share_group=group or None, receive_maximum=receive_maximum,
        session_expiry_s=session_expiry_s,
        status_filter=MQTT_STATUS_FILTER if status else None, telemetry_topics=telemetry_topics)
    sink = SinkConfig(kafka=kafka_access(settings), client_id=name, linger_ms=linger_ms,
                      batch_size=batch_size, compression=compression)
    return BridgeConfig(bridge_id=name, mqtt=mqtt, sink=sink, topics=topics or KafkaTopics(),
                        metrics_port=metrics_port, skip_devices=skip_devices)
