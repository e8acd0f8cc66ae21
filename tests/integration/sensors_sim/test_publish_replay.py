"""Against the real Mosquitto: replayed feeds arrive complete and in order; a broker restart
in the middle loses nothing the publisher reported as sent."""

from __future__ import annotations

import random
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from ioc.core.feed import FeedWriter, read_feed
from ioc.core.settings import Settings, credentials_file, state_dir
from ioc.core.topics import MQTT_TELEMETRY_FILTER
from ioc.sensors_sim.catalog import generate_catalog
from ioc.sensors_sim.generator import generate
from ioc.sensors_sim.mqtt_publisher import MqttPublisher
from ioc.sensors_sim.pacing import pump
from ioc.sensors_sim.scenarios import get_scenario


class Subscriber:
    """Bridge-user subscriber at QoS 1 that keeps the payloads it receives per topic."""

    def __init__(self, settings: Settings, persistent: bool) -> None:
        self.client_id = f"sim-test-{uuid.uuid4().hex[:10]}"
        self.received: dict[str, list[bytes]] = defaultdict(list)
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        self.settings = settings
        self.client = self._client(clean=not persistent)

    def _client(self, clean: bool) -> mqtt.Client:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id,
                             protocol=mqtt.MQTTv311, clean_session=clean)
        client.username_pw_set(self.settings.mqtt_username,
                               self.settings.mqtt_password.get_secret_value())
        client.reconnect_delay_set(min_delay=1, max_delay=1)
        client.on_connect = lambda c, u, f, rc, p: c.subscribe(MQTT_TELEMETRY_FILTER, qos=1)
        client.on_subscribe = lambda c, u, mid, rcs, p: self.subscribed.set()
        client.on_message = self._on_message
        return client

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.received[msg.topic].append(bytes(msg.payload))

    def start(self) -> None:
        self.client.connect(self.settings.mqtt_host, self.settings.mqtt_port, keepalive=10)
        self.client.loop_start()
        assert self.subscribed.wait(10), "subscription not acknowledged"

    def count_of(self, wanted: dict[str, list[bytes]]) -> int:
        with self.lock:
            return sum(len(set(self.received[t]) & set(p)) for t, p in wanted.items())

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        # Drop a persistent session so the broker stops queueing for it.
        cleaner = self._client(clean=True)
        cleaner.connect(self.settings.mqtt_host, self.settings.mqtt_port)
        cleaner.disconnect()


def _record(path: Path, minutes: int) -> dict[str, list[bytes]]:
    """Record a flash-flood feed at a random start; expected payloads per topic in order."""
    start = datetime(2031, 1, 1, tzinfo=UTC) + timedelta(minutes=random.randrange(500_000))
    expected: dict[str, list[bytes]] = defaultdict(list)
    with FeedWriter(path, origin=start.timestamp()) as writer:
        for m in generate(generate_catalog(120, seed=11), get_scenario("flash-flood"), 11,
                          start, minutes * 60):
            writer.write_at(m.sim_time.timestamp(), m.topic, m.payload)
            expected[m.topic].append(m.payload)
    return expected


def _feed(path: Path) -> Iterator[tuple[float, str, bytes]]:
    return ((m.at, m.topic, m.payload) for m in read_feed(path))


@contextmanager
def _connected(settings: Settings, persistent: bool) -> Iterator[tuple[Subscriber, MqttPublisher]]:
    """A subscriber to every telemetry topic and a publisher, both stopped at the end."""
    subscriber = Subscriber(settings, persistent=persistent)
    subscriber.start()
    publisher = MqttPublisher(settings)
    publisher.start()
    try:
        yield subscriber, publisher
    finally:
        publisher.close()
        subscriber.stop()


def test_replayed_feed_arrives_complete_and_in_order(
        mqtt_service: Settings, tmp_path: Path, eventually: Callable[..., None]) -> None:
    path = tmp_path / "flood.jsonl.gz"
    expected = _record(path, 30)
    total = sum(len(v) for v in expected.values())
    with _connected(mqtt_service, persistent=False) as (subscriber, publisher):
        stats = pump(_feed(path), publisher.publish, speed=None)
        assert publisher.flush(30)
        eventually(lambda: subscriber.count_of(expected) >= total, timeout=30,
                   what=f"{total} messages at the subscriber")
    assert stats.messages == total and publisher.stats().errors == 0
    assert publisher.stats().refused == 0  # every device is one of its gateway's
    for topic, payloads in expected.items():
        got = [p for p in subscriber.received[topic] if p in set(payloads)]
        assert got == payloads, topic  # complete and in order per device


def _restart_mosquitto(settings: Settings) -> None:
    from ioc.core.admin_settings import admin_credentials_file
    from ioc.devstack import mosquitto
    from ioc.devstack.credentials import read_credentials

    state = state_dir()
    try:
        assert mosquitto.stop(state), "Mosquitto was not started by `ioc services up`"
    finally:  # always bring the shared broker back, whatever failed
        creds = read_credentials(credentials_file(), admin_credentials_file())
        mosquitto.start(settings, state, creds, lambda _: None)


@pytest.mark.timeout(120)
def test_broker_restart_loses_nothing_reported_sent(
        mqtt_service: Settings, tmp_path: Path, eventually: Callable[..., None]) -> None:
    path = tmp_path / "flood.jsonl"
    expected = _record(path, 40)
    total = sum(len(v) for v in expected.values())
    messages = list(_feed(path))
    with _connected(mqtt_service, persistent=True) as (subscriber, publisher):
        sender = threading.Thread(target=pump, args=(iter(messages), publisher.publish),
                                  kwargs={"speed": None, "rate": 3000.0}, daemon=True)
        sender.start()
        eventually(lambda: publisher.stats().acked > total // 4, timeout=30,
                   what="a quarter of the feed acknowledged")
        _restart_mosquitto(mqtt_service)
        sender.join(60)
        assert not sender.is_alive()
        assert publisher.flush(30), "the publisher still waits for PUBACKs"
        stats = publisher.stats()
        assert stats.reconnects >= 1 and stats.pending == 0 and stats.refused == 0
        assert stats.acked == stats.published >= total  # plus the gateways' status messages
        eventually(lambda: subscriber.count_of(expected) >= total, timeout=30,
                   what=f"all {total} acknowledged messages at the subscriber")
    lost = {t: len(set(p) - set(subscriber.received[t])) for t, p in expected.items()}
    assert sum(lost.values()) == 0, lost
