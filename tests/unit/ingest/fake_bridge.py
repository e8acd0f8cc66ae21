"""A Bridge wired to a fake MQTT source and a fake Kafka sink, run in a thread (unit tests)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import orjson

from ioc.core.kafka_auth import KafkaAccess
from ioc.core.registry import Device, Registry
from ioc.ingest.bridge import Bridge, BridgeConfig
from ioc.ingest.kafka_sink import SinkConfig, SinkUnavailable
from ioc.ingest.mqtt_source import MqttConfig
from ioc.ingest.router import KafkaTopics

__all__ = ["TOPIC", "FakeSink", "FakeSource", "payload", "running_bridge", "wait_for"]

TOPIC = "ioc/v1/traffic/cam-1/telemetry"


def wait_for(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll `check` until true; fail the test after `timeout` seconds."""
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


def payload(seq: int) -> bytes:
    """A valid traffic reading numbered `seq`."""
    return orjson.dumps({"dateObserved": datetime.now(UTC).isoformat(), "seq": seq,
                         "intensity": 1, "averageVehicleSpeed": 30.0, "occupancy": 0.1})


@contextmanager
def running_bridge(*, kafka_unavailable: int = 0,
                   **config: Any) -> Iterator[tuple[Bridge, FakeSource, FakeSink, threading.Event]]:
    """A bridge for one camera with the fakes; `kafka_unavailable` sends refused at first;
    `config` overrides BridgeConfig fields (queue caps...). Yields bridge, source, sink, stop."""
    registry = Registry([Device(id="cam-1", domain="traffic", name="c", ward="tan-phu",
                                lat=11.5, lon=106.9, interval_s=10, road="r", direction="N",
                                free_flow_kmh=50)])
    bridge_config = BridgeConfig("b1", MqttConfig("h", 1, None, None, "b1", "g"),
                                 SinkConfig(KafkaAccess("k:9092", "PLAINTEXT"), "b1"),
                                 KafkaTopics.prefixed("x-"), **config)
    parts: dict[str, Any] = {}

    def source_factory(*args: Any) -> FakeSource:
        parts["source"] = FakeSource(*args)
        return parts["source"]

    def sink_factory(cfg: SinkConfig) -> FakeSink:
        parts["sink"] = FakeSink(cfg)
        parts["sink"].unavailable = kafka_unavailable
        return parts["sink"]

    bridge = Bridge(bridge_config, registry, source_factory=source_factory,
                    sink_factory=sink_factory)
    stop = threading.Event()
    thread = threading.Thread(target=bridge.run, args=(stop,), daemon=True)
    thread.start()
    wait_for(lambda: "sink" in parts and parts["source"].starts == 1)
    try:
        yield bridge, parts["source"], parts["sink"], stop
    finally:
        parts["sink"].unavailable = 0
        stop.set()
        thread.join(15)
    assert not thread.is_alive()
