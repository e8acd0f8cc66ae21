"""The paho-mqtt adapter: a persistent MQTT v5 session with manual, deferred acknowledgements."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from ioc.core.topics import MQTT_STATUS_FILTER, MQTT_TELEMETRY_FILTER

__all__ = ["MessageHandler", "MqttConfig", "MqttSource"]

log = logging.getLogger(__name__)

# (topic, payload, mid, qos, received_at epoch seconds)
MessageHandler = Callable[[str, bytes, int, int, float], None]


@dataclass(frozen=True, slots=True)
class MqttConfig:
    """Where and how the bridge subscribes."""

    host: str
    port: int
    username: str | None
    password: str | None
    client_id: str
    share_group: str | None
    session_expiry_s: int = 7 * 24 * 3600
    # Caps unacked deliveries, so memory stays bounded while Kafka is away.
    receive_maximum: int = 4000
    keepalive_s: int = 30
    telemetry_filter: str = MQTT_TELEMETRY_FILTER
    status_filter: str | None = MQTT_STATUS_FILTER

    def subscriptions(self) -> list[tuple[str, SubscribeOptions]]:
        """Telemetry through the shared group; status non-shared so retained values arrive."""
        telemetry = self.telemetry_filter
        if self.share_group:
            telemetry = f"$share/{self.share_group}/{telemetry}"
        subs = [(telemetry, SubscribeOptions(qos=1))]
        if self.status_filter:
            # retainHandling=1: retained status only when the subscription is new.
            subs.append((self.status_filter, SubscribeOptions(qos=1, retainHandling=1)))
        return subs


class MqttSource:
    """Owns the paho client; hands every message to `on_message` and acks when told to."""

    def __init__(self, config: MqttConfig, on_message: MessageHandler,
                 on_connection_lost: Callable[[], None]) -> None:
        self._config = config
        self._deliver = on_message
        self._lost = on_connection_lost
        self._subscribed = threading.Event()
        self._client = self._make_client()

    @property
    def ready(self) -> bool:
        """Connected and subscribed."""
        return self._subscribed.is_set() and self._client.is_connected()

    def _make_client(self) -> mqtt.Client:
        cfg = self._config
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cfg.client_id,
                             protocol=mqtt.MQTTv5, manual_ack=True)
        if cfg.username:
            client.username_pw_set(cfg.username, cfg.password)
        client.reconnect_delay_set(min_delay=1, max_delay=15)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def start(self) -> None:
        """Connect in the background (retrying with backoff) and start the network thread."""
        cfg = self._config
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = cfg.session_expiry_s
        props.ReceiveMaximum = cfg.receive_maximum
        self._client.connect_async(cfg.host, cfg.port, keepalive=cfg.keepalive_s,
                                   clean_start=False, properties=props)
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnect normally (the session and its unacked messages stay on the broker)."""
        self._subscribed.clear()
        self._client.disconnect()
        self._client.loop_stop()

    def ack(self, mid: int, qos: int) -> None:
        """Send the PUBACK for one message (thread-safe: paho queues the packet)."""
        self._client.ack(mid, qos)

    def wait_ready(self, timeout: float) -> bool:
        """Wait until subscribed; True if it happened in time."""
        return self._subscribed.wait(timeout)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: mqtt.ConnectFlags,
                    reason: mqtt.ReasonCode, properties: Properties | None) -> None:
        if reason.is_failure:
            log.error("mqtt: connect refused: %s", reason)
            return
        log.info("mqtt: connected as %s (session present: %s)", self._config.client_id,
                 flags.session_present)
        client.subscribe(self._config.subscriptions())

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int,
                      reasons: list[mqtt.ReasonCode], properties: Properties | None) -> None:
        failed = [str(r) for r in reasons if r.is_failure]
        if failed:
            log.error("mqtt: subscription refused: %s (check the ACL)", ", ".join(failed))
            return
        log.info("mqtt: subscribed to %s", [t for t, _ in self._config.subscriptions()])
        self._subscribed.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: mqtt.DisconnectFlags,
                       reason: mqtt.ReasonCode, properties: Properties | None) -> None:
        self._subscribed.clear()
        log.warning("mqtt: disconnected: %s", reason)
        self._lost()

    def _on_message(self, client: mqtt.Client, userdata: Any,
                    message: mqtt.MQTTMessage) -> None:
        # Runs on paho's network thread: hand over and return, never block here.
        try:
            topic = message.topic
        except UnicodeDecodeError:
            topic = repr(message._topic)  # the router dead-letters it as a bad topic
        self._deliver(topic, bytes(message.payload), message.mid, message.qos, time.time())
