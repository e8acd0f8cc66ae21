"""A paho client for the broker-level security tests: records CONNACK, disconnects, SUBACK
and PUBACK reason codes and received messages, and never reconnects on its own (a kicked
client must stay kicked for the test to see it)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ioc.core.settings import Settings

__all__ = ["MqttTestClient", "mqtt_connect"]

class MqttTestClient:
    """One connection (MQTT v5 unless `v5=False`) with everything it saw."""

    def __init__(self, settings: Settings, username: str | None, password: str | None,
                 client_id: str | None = None, *, v5: bool = True, clean: bool = True,
                 session_expiry: int | None = None) -> None:
        self.client_id = client_id if client_id is not None else f"t-{uuid.uuid4().hex[:10]}"
        self.connack: mqtt.ReasonCode | None = None
        self.disconnects: list[str] = []
        self.messages: list[tuple[str, bytes]] = []
        self.pubacks: dict[int, mqtt.ReasonCode] = {}
        self._connected, self._suback = threading.Event(), threading.Event()
        self._granted: list[mqtt.ReasonCode] = []
        protocol = mqtt.MQTTv5 if v5 else mqtt.MQTTv311
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id,
                                  protocol=protocol, clean_session=None if v5 else clean)
        if username is not None:
            self.client.username_pw_set(username, password)
        self.client.reconnect_delay_set(min_delay=300, max_delay=300)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda c, u, f, rc, p: self.disconnects.append(str(rc))
        self.client.on_message = lambda c, u, m: self.messages.append((m.topic, bytes(m.payload)))
        self.client.on_subscribe = self._on_subscribe
        self.client.on_publish = lambda c, u, mid, rc, p: self.pubacks.__setitem__(mid, rc)
        props = None
        if v5 and session_expiry is not None:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = session_expiry
        if v5:
            self.client.connect(settings.mqtt_host, settings.mqtt_port, keepalive=30,
                                clean_start=clean, properties=props)
        else:
            self.client.connect(settings.mqtt_host, settings.mqtt_port, keepalive=30)
        self.client.loop_start()
        assert self._connected.wait(15), "broker gave no CONNACK"

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object,
                    reason: mqtt.ReasonCode, properties: object) -> None:
        self.connack = reason
        self._connected.set()

    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int,
                      reasons: list[mqtt.ReasonCode], properties: object) -> None:
        self._granted = list(reasons)
        self._suback.set()

    @property
    def accepted(self) -> bool:
        """The broker accepted the login."""
        return self.connack is not None and not self.connack.is_failure

    @property
    def connected(self) -> bool:
        """Still connected (not kicked, not refused)."""
        return self.accepted and not self.disconnects

    def subscribe(self, topic_filter: str) -> bool:
        """Subscribe at QoS 1; True if the broker granted it."""
        self._suback.clear()
        self.client.subscribe(topic_filter, qos=1)
        assert self._suback.wait(10), f"no SUBACK for {topic_filter}"
        return not any(r.is_failure for r in self._granted)

    def publish(self, topic: str, payload: bytes, timeout: float = 10.0) -> str | None:
        """Publish at QoS 1; 'Success' for any accepting PUBACK (e.g. 'No matching
        subscribers' too), else its reason ('Not authorized', ...), or None when none came
        (e.g. the broker dropped the connection)."""
        info = self.client.publish(topic, payload, qos=1)
        deadline = time.monotonic() + timeout
        while info.mid not in self.pubacks and time.monotonic() < deadline \
                and not self.disconnects:
            time.sleep(0.01)
        reason = self.pubacks.get(info.mid)
        if reason is None:
            return None
        return str(reason) if reason.is_failure else "Success"

    def payloads(self) -> list[bytes]:
        """Payloads received so far."""
        return [payload for _, payload in self.messages]

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def mqtt_connect(mqtt_service: Settings) -> Iterator[Callable[..., MqttTestClient]]:
    """Factory for MqttTestClient on the local broker; all are closed after the test."""
    clients: list[MqttTestClient] = []

    def make(username: str | None, password: str | None, client_id: str | None = None,
             **options: Any) -> MqttTestClient:
        client = MqttTestClient(mqtt_service, username, password, client_id, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
