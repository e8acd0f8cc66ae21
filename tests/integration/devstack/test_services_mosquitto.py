"""Mosquitto as `ioc services up` runs it: auth, ACL per device, gateways, bridge reads."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator

import paho.mqtt.client as mqtt
import pytest

from ioc.core.settings import Settings


class _Client:
    """A connected paho client (VERSION2 callbacks) that records received messages."""

    def __init__(self, settings: Settings, username: str | None, password: str | None) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.connack: mqtt.ReasonCode | None = None
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=f"test-{uuid.uuid4().hex[:10]}")
        if username is not None:
            self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda c, u, msg: self.messages.append(
            (msg.topic, bytes(msg.payload)))
        self.client.on_subscribe = lambda c, u, mid, codes, props: self._subscribed.set()
        self.client.connect(settings.mqtt_host, settings.mqtt_port, keepalive=30)
        self.client.loop_start()
        self._connected.wait(10)

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object,
                    reason_code: mqtt.ReasonCode, properties: object) -> None:
        self.connack = reason_code
        self._connected.set()

    @property
    def accepted(self) -> bool:
        return self.connack is not None and not self.connack.is_failure

    def subscribe(self, topic_filter: str) -> None:
        self._subscribed.clear()
        self.client.subscribe(topic_filter, qos=1)
        assert self._subscribed.wait(10), f"no SUBACK for {topic_filter}"

    def publish(self, topic: str, payload: bytes) -> None:
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(10)

    def payloads(self) -> list[bytes]:
        return [payload for _, payload in self.messages]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def connect(mqtt_service: Settings) -> Iterator[Callable[[str | None, str | None], _Client]]:
    """Factory for connected clients; all are closed after the test."""
    clients: list[_Client] = []

    def make(username: str | None, password: str | None) -> _Client:
        client = _Client(mqtt_service, username, password)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def _bridge(connect: Callable[..., _Client], settings: Settings) -> _Client:
    client = connect(settings.mqtt_username, settings.mqtt_password.get_secret_value())
    assert client.accepted, f"bridge user refused: {client.connack}"
    return client


def test_gateway_and_device_publish_reach_shared_bridge_subscription(
        connect: Callable[..., _Client], mqtt_service: Settings,
        eventually: Callable[..., None]) -> None:
    bridge = _bridge(connect, mqtt_service)
    nonce = uuid.uuid4().hex
    # narrow filters (wildcards included) keep other traffic on a shared broker out
    group = f"$share/test-{nonce[:8]}"
    bridge.subscribe(f"{group}/ioc/v1/+/tr-{nonce[:8]}/telemetry")
    bridge.subscribe(f"{group}/ioc/v1/+/dev-demo-1/+")
    gateway = connect("gw-traffic", mqtt_service.mqtt_gateway_password.get_secret_value())
    device = connect("dev-demo-1", mqtt_service.mqtt_device_password.get_secret_value())
    assert gateway.accepted and device.accepted
    gateway.publish(f"ioc/v1/traffic/tr-{nonce[:8]}/telemetry", f"gw {nonce}".encode())
    device.publish("ioc/v1/drainage/dev-demo-1/telemetry", f"dev {nonce}".encode())
    eventually(lambda: {f"gw {nonce}".encode(), f"dev {nonce}".encode()}
               <= set(bridge.payloads()), what="both messages at the bridge")


def test_device_cannot_publish_as_another_device(
        connect: Callable[..., _Client], mqtt_service: Settings,
        eventually: Callable[..., None]) -> None:
    bridge = _bridge(connect, mqtt_service)
    bridge.subscribe("ioc/v1/drainage/dev-demo-2/telemetry")
    bridge.subscribe("ioc/v1/drainage/dev-demo-1/telemetry")
    device = connect("dev-demo-1", mqtt_service.mqtt_device_password.get_secret_value())
    assert device.accepted
    nonce = uuid.uuid4().hex
    forbidden, legit = f"forged {nonce}".encode(), f"own {nonce}".encode()
    device.publish("ioc/v1/drainage/dev-demo-2/telemetry", forbidden)
    device.publish("ioc/v1/drainage/dev-demo-1/telemetry", legit)
    eventually(lambda: legit in bridge.payloads(), what="the device's own message")
    # Same connection, QoS 1, published first: had it been allowed it would have come first.
    assert forbidden not in bridge.payloads()


def test_gateway_cannot_publish_into_another_domain(
        connect: Callable[..., _Client], mqtt_service: Settings,
        eventually: Callable[..., None]) -> None:
    bridge = _bridge(connect, mqtt_service)
    nonce = uuid.uuid4().hex
    bridge.subscribe(f"ioc/v1/+/x-{nonce[:8]}/telemetry")
    gateway = connect("gw-streetlight", mqtt_service.mqtt_gateway_password.get_secret_value())
    gateway.publish(f"ioc/v1/drainage/x-{nonce[:8]}/telemetry", f"forged {nonce}".encode())
    gateway.publish(f"ioc/v1/streetlight/x-{nonce[:8]}/telemetry", f"own {nonce}".encode())
    eventually(lambda: f"own {nonce}".encode() in bridge.payloads(), what="own-domain message")
    assert f"forged {nonce}".encode() not in bridge.payloads()


@pytest.mark.parametrize("username,password", [(None, None), ("ioc-bridge", "wrong-password"),
                                                ("nobody", "nothing")])
def test_anonymous_and_bad_credentials_are_refused(
        connect: Callable[..., _Client], username: str | None, password: str | None) -> None:
    client = connect(username, password)
    assert client.connack is not None, "broker gave no CONNACK"
    assert client.connack.is_failure
