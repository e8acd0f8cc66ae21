"""Mosquitto as `ioc services up` runs it, attacked by its own users: per-device secrets,
client ids bound to users, ACLs per device and domain from the registry, packet limits."""

from __future__ import annotations

import stat
import uuid
from collections.abc import Callable

import pytest

from ioc.core.mqtt_secrets import mqtt_secret, mqtt_secrets_file
from ioc.core.registry import Device, load_registry
from ioc.core.settings import Settings, state_dir
from ioc.core.topics import status_topic, telemetry_topic
from ioc.devstack.mosquitto import dynsec_file
from tests.integration.mqtt_client import MqttTestClient, mqtt_connect

__all__ = ["mqtt_connect"]

Connect = Callable[..., MqttTestClient]


@pytest.fixture(scope="module")
def devices(mqtt_service: Settings) -> dict[str, Device]:
    """Two traffic devices and a drainage device of the registry `ioc services up` used."""
    registry = list(load_registry(mqtt_service.registry))
    traffic = [d for d in registry if d.domain == "traffic"]
    drainage = next(d for d in registry if d.domain == "drainage")
    return {"a": traffic[0], "b": traffic[1], "drain": drainage}


def _login(connect: Connect, device: Device, **options: object) -> MqttTestClient:
    client = connect(device.id, mqtt_secret(device.id), device.id, **options)
    assert client.accepted, f"{device.id} refused: {client.connack}"
    return client


def _bridge(connect: Connect, settings: Settings) -> MqttTestClient:
    client = connect(settings.mqtt_username, settings.mqtt_password.get_secret_value())
    assert client.accepted, f"bridge user refused: {client.connack}"
    return client


def test_device_secret_logs_in_only_as_its_own_device(
        mqtt_connect: Connect, devices: dict[str, Device]) -> None:
    a, b = devices["a"], devices["b"]
    assert _login(mqtt_connect, a).accepted
    # A's secret under B's name (with B's client id, or A's): refused
    assert not mqtt_connect(b.id, mqtt_secret(a.id), b.id).accepted
    assert not mqtt_connect(b.id, mqtt_secret(a.id), a.id).accepted
    # gateways have secrets of their own too
    assert not mqtt_connect("gw-traffic", mqtt_secret(a.id), "gw-traffic").accepted


def test_client_id_takeover_by_another_user_is_refused(
        mqtt_connect: Connect, devices: dict[str, Device],
        eventually: Callable[..., None]) -> None:
    a, b = devices["a"], devices["b"]
    victim = _login(mqtt_connect, a)
    for user in (b.id, "gw-traffic"):
        attacker = mqtt_connect(user, mqtt_secret(user), a.id)
        assert not attacker.accepted, f"{user} took {a.id}'s client id"
    # the victim still publishes on its one connection
    assert victim.connected
    assert victim.publish(telemetry_topic("traffic", a.id), b"{}") == "Success"
    # and even its own secret needs its own client id
    assert not mqtt_connect(a.id, mqtt_secret(a.id), f"{a.id}-2").accepted


def test_device_publishes_only_its_own_topics_in_its_own_domain(
        mqtt_connect: Connect, mqtt_service: Settings, devices: dict[str, Device],
        eventually: Callable[..., None]) -> None:
    a, b = devices["a"], devices["b"]
    bridge = _bridge(mqtt_connect, mqtt_service)
    assert bridge.subscribe(f"ioc/v1/+/{a.id}/+") and bridge.subscribe(f"ioc/v1/+/{b.id}/+")
    device = _login(mqtt_connect, a)
    nonce = uuid.uuid4().hex.encode()
    forged = {telemetry_topic("drainage", a.id): b"other domain " + nonce,
              status_topic("streetlight", a.id): b"other domain status " + nonce,
              telemetry_topic("traffic", b.id): b"other device " + nonce,
              status_topic("traffic", b.id): b"other device status " + nonce}
    for topic, payload in forged.items():
        assert device.publish(topic, payload) == "Not authorized", topic
    legit = b"own " + nonce
    assert device.publish(telemetry_topic("traffic", a.id), legit) == "Success"
    eventually(lambda: legit in bridge.payloads(), what="the device's own message")
    # same connection, QoS 1, sent first: had any been allowed it would have arrived first
    assert not set(forged.values()) & set(bridge.payloads())


def test_gateway_publishes_only_for_the_registry_devices_of_its_domain(
        mqtt_connect: Connect, mqtt_service: Settings, devices: dict[str, Device],
        eventually: Callable[..., None]) -> None:
    bridge = _bridge(mqtt_connect, mqtt_service)
    assert bridge.subscribe("ioc/v1/#")
    gateway = mqtt_connect("gw-traffic", mqtt_secret("gw-traffic"), "gw-traffic")
    assert gateway.accepted
    nonce = uuid.uuid4().hex
    refused = [telemetry_topic("drainage", devices["drain"].id),  # another domain's device
               telemetry_topic("drainage", devices["a"].id),  # its device, another domain
               telemetry_topic("traffic", f"ghost-{nonce[:8]}")]  # not in the registry
    for topic in refused:
        assert gateway.publish(topic, nonce.encode()) == "Not authorized", topic
    own = telemetry_topic("traffic", devices["b"].id)
    assert gateway.publish(own, b"own " + nonce.encode()) == "Success"
    eventually(lambda: b"own " + nonce.encode() in bridge.payloads(), what="own message")
    assert nonce.encode() not in bridge.payloads()


def test_devices_and_gateways_cannot_subscribe(
        mqtt_connect: Connect, devices: dict[str, Device]) -> None:
    a, b = devices["a"], devices["b"]
    device = _login(mqtt_connect, a)
    gateway = mqtt_connect("gw-traffic", mqtt_secret("gw-traffic"), "gw-traffic")
    for client in (device, gateway):
        for topic_filter in ("ioc/v1/#", telemetry_topic("traffic", b.id),
                             f"$share/x/ioc/v1/traffic/{b.id}/telemetry", "#"):
            assert not client.subscribe(topic_filter), topic_filter
    other = _login(mqtt_connect, b)
    assert other.publish(telemetry_topic("traffic", b.id), b"secret reading") == "Success"
    assert other.publish(status_topic("traffic", b.id), b"online") == "Success"
    assert device.messages == [] and gateway.messages == []


@pytest.mark.parametrize("username,password", [(None, None), ("ioc-bridge", "wrong-password"),
                                                ("nobody", "nothing"), ("ioc-admin", "")])
def test_anonymous_and_bad_credentials_are_refused(
        mqtt_connect: Connect, username: str | None, password: str | None) -> None:
    client = mqtt_connect(username, password)
    assert client.connack is not None and client.connack.is_failure


def test_oversized_packet_drops_the_connection_and_is_not_delivered(
        mqtt_connect: Connect, mqtt_service: Settings, devices: dict[str, Device],
        eventually: Callable[..., None]) -> None:
    a = devices["a"]
    bridge = _bridge(mqtt_connect, mqtt_service)
    assert bridge.subscribe(telemetry_topic("traffic", a.id))
    # MQTT 3.1.1: the broker's limit is not announced, so the client really sends it
    device = _login(mqtt_connect, a, v5=False)
    big = b"x" * (1024 * 1024)
    assert device.publish(telemetry_topic("traffic", a.id), big, timeout=15) is None
    eventually(lambda: bool(device.disconnects), what="the broker closing the connection")
    after = _login(mqtt_connect, a)
    assert after.publish(telemetry_topic("traffic", a.id), b"small") == "Success"
    eventually(lambda: b"small" in bridge.payloads(), what="the next, normal message")
    assert big not in bridge.payloads()


def test_secret_files_are_private(mqtt_service: Settings) -> None:
    for path in (mqtt_secrets_file(), dynsec_file(state_dir())):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == 0o600, f"{path} has mode {oct(mode)}"
