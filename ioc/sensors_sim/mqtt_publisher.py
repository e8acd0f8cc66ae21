"""The only paho-mqtt user of the simulator: gateway connections publishing at QoS 1.

One connection per domain as its gateway user (`gw-<domain>`), with that gateway's own
secret (from the secrets file `ioc services up` writes) and its bound client id, which is
the user name: a second publisher for the same gateway takes the first one's place.
A connection's Last Will is
a retained `offline` on the gateway's own status topic (`ioc/v1/<domain>/gw-<domain>/status`):
MQTT allows one will per connection, so the will covers the gateway, and on a clean stop the
publisher itself publishes a retained `offline` for every device it announced. A message
counts as sent only when its PUBACK arrived; unacknowledged ones stay in paho's session
queue and are re-sent (DUP) after an automatic reconnect.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import paho.mqtt.client as mqtt

from ioc.core.errors import ServiceError
from ioc.core.mqtt_identities import gateway_user
from ioc.core.mqtt_secrets import mqtt_secret
from ioc.core.settings import Settings
from ioc.core.topics import DOMAINS, status_topic

__all__ = ["MqttPublisher", "PublishStats"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PublishStats:
    """Publisher counters: handed to paho, acknowledged by the broker, waiting, failures,
    and acknowledged-but-refused (the gateway may not publish there: not its device)."""

    published: int
    acked: int
    pending: int
    errors: int
    reconnects: int
    refused: int = 0


class _Gateway:
    """One paho client with a window of unacknowledged QoS 1 messages."""

    def __init__(self, settings: Settings, domain: str, password: str, window: int) -> None:
        self.domain = domain
        self.user = gateway_user(domain)
        self.status = status_topic(domain, self.user)
        self.window = window
        self.cond = threading.Condition()
        self.pending: set[int] = set()
        self.early: set[int] = set()  # PUBACKs that beat publish() returning the mid
        self.published = self.acked = self.errors = self.connects = self.refused = 0
        self.connected = threading.Event()
        # the broker binds each gateway to one client id: its user name. MQTT v5, so that a
        # PUBACK says when the ACL refused a topic (3.1.1 acks it silently).
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.user,
                             protocol=mqtt.MQTTv5)
        client.username_pw_set(self.user, password)
        client.will_set(self.status, b"offline", qos=1, retain=True)
        client.max_inflight_messages_set(window)
        client.max_queued_messages_set(0)
        client.reconnect_delay_set(min_delay=1, max_delay=2)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        self.client = client
        self._settings = settings

    def start(self, timeout: float) -> None:
        try:
            self.client.connect_async(self._settings.mqtt_host, self._settings.mqtt_port,
                                      keepalive=30)
        except OSError as exc:
            raise ServiceError(f"MQTT connect as {self.user} failed: {exc}") from exc
        self.client.loop_start()
        if not self.connected.wait(timeout):
            self.client.loop_stop()
            raise ServiceError(f"no MQTT connection as {self.user} to "
                               f"{self._settings.mqtt_host}:{self._settings.mqtt_port}")

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object,
                    reason_code: mqtt.ReasonCode, properties: object) -> None:
        if reason_code.is_failure:
            log.warning("%s: connection refused: %s", self.user, reason_code)
            self.errors += 1
            return
        self.connects += 1
        if self.connects > 1:
            log.warning("%s: reconnected; %d unacknowledged messages are re-sent",
                        self.user, len(self.pending))
        # Tracked like any message so its PUBACK is not mistaken for another mid's.
        self._track(client.publish(self.status, b"online", qos=1, retain=True))
        self.connected.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: object,
                       reason_code: mqtt.ReasonCode, properties: object) -> None:
        self.connected.clear()
        if reason_code.is_failure:
            log.warning("%s: disconnected (%s); reconnecting", self.user, reason_code)

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int,
                    reason_code: mqtt.ReasonCode, properties: object) -> None:
        if reason_code.is_failure:
            self.refused += 1
            if self.refused == 1:
                log.warning("%s: the broker refused a publish (%s); is the device in the "
                            "registry the broker was set up from?", self.user, reason_code)
        with self.cond:
            if mid in self.pending:
                self.pending.discard(mid)
                self.acked += 1
                self.cond.notify_all()
            else:
                self.early.add(mid)

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        with self.cond:
            while len(self.pending) >= self.window:
                self.cond.wait(0.5)
        self._track(self.client.publish(topic, payload, qos=1, retain=retain))

    def _track(self, info: mqtt.MQTTMessageInfo) -> None:
        # NO_CONN still leaves the message in paho's queue; it goes out after reconnecting.
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            self.errors += 1  # not queued by paho: counted, never reported as sent
            log.warning("%s: publish failed: %s", self.user, info.rc)
            return
        with self.cond:
            self.published += 1
            if info.mid in self.early:
                self.early.discard(info.mid)
                self.acked += 1
            else:
                self.pending.add(info.mid)

    def drain(self, deadline: float) -> bool:
        with self.cond:
            while self.pending and time.monotonic() < deadline:
                self.cond.wait(0.2)
            return not self.pending

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class MqttPublisher:
    """Publishes simulator messages over one gateway connection per domain, QoS 1.

    `window` bounds unacknowledged messages per connection; paho scans its queue on each
    PUBACK, so small windows (~64) measured fastest here (13k/s vs 3k/s at 5000).
    """

    def __init__(self, settings: Settings, secrets: Mapping[str, str] | None = None,
                 window: int = 64) -> None:
        if secrets is None:  # ConfigError (saying how to get one) when a gateway has none
            secrets = {gateway_user(d): mqtt_secret(gateway_user(d)) for d in DOMAINS}
        self._gateways = {d: _Gateway(settings, d, secrets[gateway_user(d)], window)
                          for d in DOMAINS}
        self._announced: dict[str, list[str]] = {d: [] for d in DOMAINS}

    def start(self, timeout: float = 10.0) -> None:
        """Connect every gateway; ServiceError when the broker does not answer."""
        for gateway in self._gateways.values():
            gateway.start(timeout)

    def announce(self, devices: Iterable[tuple[str, str]]) -> None:
        """Publish a retained `online` status for (domain, device id) pairs."""
        for domain, device_id in devices:
            self._announced[domain].append(device_id)
            self._gateways[domain].publish(status_topic(domain, device_id), b"online",
                                           retain=True)

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish one message at QoS 1 (status topics retained); blocks when the window is full."""
        parts = topic.split("/")
        gateway = self._gateways.get(parts[2]) if len(parts) > 2 else None
        if gateway is None:
            raise ServiceError(f"no gateway publishes {topic!r}")
        gateway.publish(topic, payload, retain=topic.endswith("/status"))

    def stats(self) -> PublishStats:
        """Counters summed over the gateways."""
        gws = self._gateways.values()
        return PublishStats(sum(g.published for g in gws), sum(g.acked for g in gws),
                            sum(len(g.pending) for g in gws), sum(g.errors for g in gws),
                            sum(max(0, g.connects - 1) for g in gws),
                            sum(g.refused for g in gws))

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every published message is acknowledged; True if none is left."""
        deadline = time.monotonic() + timeout
        return all(g.drain(deadline) for g in self._gateways.values())

    def close(self, timeout: float = 30.0) -> bool:
        """Mark announced devices and gateways `offline` (retained), flush, disconnect."""
        for domain, ids in self._announced.items():
            for device_id in ids:
                self._gateways[domain].publish(status_topic(domain, device_id), b"offline",
                                               retain=True)
        for gateway in self._gateways.values():
            gateway.publish(gateway.status, b"offline", retain=True)
        flushed = self.flush(timeout)
        for gateway in self._gateways.values():
            gateway.stop()
        return flushed
