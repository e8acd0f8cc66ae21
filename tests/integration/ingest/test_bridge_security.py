"""Attacks on the bridge's MQTT side, on the real Mosquitto, bridge and Kafka: another user
taking the bridge's client id, and a 1 MiB publish."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ioc.bench.loadgen import BridgeProcess, Collector, seqs_by_device, sequenced, traffic_payload
from ioc.core.topics import telemetry_topic
from ioc.devstack.mosquitto import MAX_PACKET_SIZE
from ioc.testing.mqtt_logins import run_devices
from tests.integration.mqtt_client import MqttTestClient, mqtt_connect

__all__ = ["mqtt_connect"]

pytestmark = pytest.mark.timeout(300)

Connect = Callable[..., MqttTestClient]


def test_another_user_cannot_take_the_bridge_session_and_its_queue_survives(
        run: Any, start_bridge: Callable[..., BridgeProcess], collector: Collector,
        publish: Callable[..., None], mqtt_connect: Connect,
        eventually: Callable[..., None]) -> None:
    bridge = start_bridge("a", "--no-status")
    session = f"{run.id}-a"  # the bridge's client id
    victim_device = run.devices[0]
    with run_devices(run.settings, [("traffic", victim_device.id)]) as logins:
        device = logins[victim_device.id]
        online = mqtt_connect(device.username, device.password, session)
        assert not online.accepted, "a device took the running bridge's client id"
        assert bridge.get("/ready")[0] == 200
        bridge.stop()  # graceful: its session stays on the broker and queues for it
        queued = sequenced(run.devices, 1)[:5]
        publish(queued)
        # clean start under the bridge's id would wipe the session and its 5 messages
        for v5 in (True, False):
            attacker = mqtt_connect(device.username, device.password, session, v5=v5,
                                    clean=True)
            assert not attacker.accepted, f"takeover accepted (MQTT v5: {v5})"
    start_bridge("a", "--no-status")
    eventually(lambda: collector.count(run.topics.telemetry) >= len(queued), timeout=60,
               what="the 5 queued messages after the bridge came back")
    got = seqs_by_device(collector.records[run.topics.telemetry])
    assert got == {d.id: [0] for d in run.devices[:5]}


def test_one_mib_publish_is_refused_and_the_bridge_stays_ready_and_forwarding(
        run: Any, start_bridge: Callable[..., BridgeProcess], collector: Collector,
        publish: Callable[..., None], mqtt_connect: Connect,
        eventually: Callable[..., None]) -> None:
    bridge = start_bridge("a", "--no-status")
    topic = telemetry_topic("traffic", run.devices[0].id)
    gateway = run.gateway
    # MQTT 3.1.1: the client is not told the limit, so it really sends the megabyte
    attacker = mqtt_connect(gateway.username, gateway.password, gateway.cid, v5=False)
    assert attacker.accepted
    huge = traffic_payload(7)[:-1] + b', "pad": "' + b"x" * (1024 * 1024) + b'"}'
    assert attacker.publish(topic, huge, timeout=20) is None, "the broker acknowledged it"
    eventually(lambda: bool(attacker.disconnects), what="the broker dropping the sender")
    attacker.close()
    good = sequenced(run.devices, 3)
    publish(good)
    eventually(lambda: collector.count(run.topics.telemetry) >= len(good), timeout=60,
               what="the normal messages after the attack")
    assert bridge.get("/ready")[0] == 200
    assert bridge.metric("ioc_bridge_received_total") == len(good)
    everything = collector.records[run.topics.telemetry] + collector.records[
        run.topics.deadletter]
    assert max(len(r.value) for r in everything) < MAX_PACKET_SIZE
    assert collector.count(run.topics.deadletter) == 0
