"""The bridge's wiring with fake MQTT and Kafka: ack only after confirmation, in order."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from ioc.core.kafka_auth import KafkaAccess
from ioc.core.registry import Device, Registry
from ioc.ingest.bridge import Bridge, BridgeConfig
from ioc.ingest.kafka_sink import SinkConfig, SinkUnavailable
from ioc.ingest.mqtt_source import MqttConfig
from ioc.ingest.router import KafkaTopics

TOPIC = "ioc/v1/traffic/cam-1/telemetry"


def wait_for(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


class FakeSource:
    def __init__(self, config: MqttConfig, on_message: Callable[..., None],
                 on_lost: Callable[[], None]) -> None:
        self.deliver, self.lost = on_message, on_lost
        self.acks: list[int] = []
        self.starts = self.stops = 0
        self.ready = True

    def start(self) -> None:
        self.starts += 1

    def stop(self) -> None:
        self.stops += 1
        self.lost()

    def ack(self, mid: int, qos: int) -> None:
        self.acks.append(mid)


class FakeSink:
    def __init__(self, config: SinkConfig) -> None:
        self.sent: list[tuple[str, bytes | None, Callable[..., Any], Callable[..., Any], Any]] = []
        self.unavailable = 0
        self.lock = threading.Lock()

    def send(self, topic: str, key: bytes | None, value: bytes, headers: Any,
             on_ok: Callable[..., Any], on_error: Callable[..., Any], arg: Any) -> None:
        if self.unavailable:
            self.unavailable -= 1
            raise SinkUnavailable("no metadata")
        with self.lock:
            self.sent.append((topic, key, on_ok, on_error, arg))

    def ok(self, index: int) -> None:
        _, _, on_ok, _, arg = self.sent[index]
        on_ok(arg, None)

    def fail(self, index: int) -> None:
        _, _, _, on_error, arg = self.sent[index]
        on_error(arg, RuntimeError("delivery timeout"))

    def flush(self, timeout_s: float) -> bool:
        for i in range(len(self.sent)):
            if not self.sent[i][4].done:
                self.ok(i)
        return True

    def close(self, timeout_s: float = 0) -> None:
        pass


@pytest.fixture
def bridge_parts() -> Any:
    registry = Registry([Device(id="cam-1", domain="traffic", name="c", ward="tan-phu",
                                lat=11.5, lon=106.9, interval_s=10, road="r", direction="N",
                                free_flow_kmh=50)])
    config = BridgeConfig("b1", MqttConfig("h", 1, None, None, "b1", "g"),
                          SinkConfig(KafkaAccess("k:9092", "PLAINTEXT"), "b1"),
                          KafkaTopics.prefixed("x-"))
    holder: dict[str, Any] = {}

    def source_factory(*args: Any) -> FakeSource:
        holder["source"] = FakeSource(*args)
        return holder["source"]

    def sink_factory(cfg: SinkConfig) -> FakeSink:
        holder["sink"] = FakeSink(cfg)
        return holder["sink"]

    bridge = Bridge(config, registry, source_factory=source_factory, sink_factory=sink_factory)
    stop = threading.Event()
    thread = threading.Thread(target=bridge.run, args=(stop,), daemon=True)
    thread.start()
    wait_for(lambda: "sink" in holder and holder["source"].starts == 1)
    yield bridge, holder["source"], holder["sink"], stop
    stop.set()
    thread.join(10)
    assert not thread.is_alive()


def _payload(seq: int) -> bytes:
    return orjson.dumps({"dateObserved": datetime.now(UTC).isoformat(), "seq": seq,
                         "intensity": 1, "averageVehicleSpeed": 30.0, "occupancy": 0.1})


def test_acks_follow_kafka_confirmations_in_receive_order(bridge_parts: Any) -> None:
    bridge, source, sink, _ = bridge_parts
    for mid in (1, 2, 3):
        source.deliver(TOPIC, _payload(mid), mid, 1, time.time())
    source.deliver(TOPIC, b"garbage", 4, 1, time.time())
    wait_for(lambda: len(sink.sent) == 4)
    assert sink.sent[0][0] == "x-ioc.telemetry" and sink.sent[0][1] == b"cam-1"
    assert sink.sent[3][0] == "x-ioc.deadletter"
    sink.ok(2)
    sink.ok(1)
    assert source.acks == []
    sink.ok(0)
    assert source.acks == [1, 2, 3]
    sink.ok(3)
    assert source.acks == [1, 2, 3, 4]
    assert bridge.metrics.value("ioc_bridge_deadlettered_total", reason="bad_json") == 1
    assert bridge.metrics.value("ioc_bridge_forwarded_total", kind="telemetry") == 3


def test_refused_record_is_never_acked_and_restarts_the_session(bridge_parts: Any) -> None:
    bridge, source, sink, _ = bridge_parts
    for mid in (1, 2):
        source.deliver(TOPIC, _payload(mid), mid, 1, time.time())
    wait_for(lambda: len(sink.sent) == 2)
    sink.fail(0)
    sink.ok(1)
    assert source.acks == []
    wait_for(lambda: source.starts == 2)  # reconnected so the broker redelivers both
    assert source.stops >= 1
    assert source.acks == []
    assert bridge.metrics.value("ioc_bridge_send_failed_total") == 1


def test_kafka_unavailable_at_send_is_retried(bridge_parts: Any) -> None:
    _, source, sink, _ = bridge_parts
    sink.unavailable = 2
    source.deliver(TOPIC, _payload(1), 9, 1, time.time())
    wait_for(lambda: len(sink.sent) == 1, timeout=10)
    sink.ok(0)
    assert source.acks == [9]


def test_graceful_stop_acks_what_was_received_and_refuses_new(bridge_parts: Any) -> None:
    bridge, source, sink, stop = bridge_parts
    for mid in (1, 2, 3):
        source.deliver(TOPIC, _payload(mid), mid, 1, time.time())
    wait_for(lambda: len(sink.sent) == 3)
    stop.set()
    wait_for(lambda: source.acks == [1, 2, 3])  # flushed on shutdown, then acked
    source.deliver(TOPIC, _payload(4), 4, 1, time.time())  # arrives while draining
    wait_for(lambda: source.stops >= 1)
    assert len(sink.sent) == 3 and source.acks == [1, 2, 3]
    assert not bridge.ready()


def test_messages_of_a_lost_connection_are_still_forwarded_but_never_acked(
        bridge_parts: Any) -> None:
    bridge, source, sink, _ = bridge_parts
    with sink.lock:  # the bridge's worker blocks sending the first message
        source.deliver(TOPIC, _payload(1), 1, 1, time.time())
        source.deliver(TOPIC, _payload(2), 2, 1, time.time())
        wait_for(lambda: bridge.metrics.value("ioc_bridge_received_total") == 1)
        source.lost()  # the broker died: it may have lost both (already PUBACKed upstream)
    wait_for(lambda: len(sink.sent) == 2)
    sink.ok(0)
    sink.ok(1)
    assert source.acks == []  # their packet ids belonged to the lost session
    assert bridge.metrics.value("ioc_bridge_stale_total") == 1
