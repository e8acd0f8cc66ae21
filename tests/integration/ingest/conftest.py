"""Fixtures for the bridge tests: a per-test registry, topics, bridge processes, a collector."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ioc.bench.loadgen import BridgeProcess, Collector, Publisher, traffic_devices
from ioc.core.kafka_admin import ensure_topics
from ioc.core.kafka_auth import kafka_access
from ioc.core.mqtt_identities import MqttLogin
from ioc.core.registry import Device, dump_registry
from ioc.core.settings import Settings
from ioc.ingest.router import KafkaTopics
from ioc.testing.mqtt_logins import run_gateway


class Run:
    """One test's names: device ids, Kafka topics, MQTT share group."""

    def __init__(self, settings: Settings, tmp_path: Path) -> None:
        self.id = uuid.uuid4().hex[:10]
        self.settings = settings
        self.tmp = tmp_path
        self.devices: list[Device] = self.make_devices()
        self.registry = tmp_path / "devices.yaml"
        dump_registry(self.devices, self.registry)
        self.prefix = f"test-{self.id}-"
        self.topics = KafkaTopics.prefixed(self.prefix)
        self.group = f"g{self.id}"
        self.gateway = MqttLogin("", "")  # set by the `run` fixture
        ensure_topics(kafka_access(settings), [self.topics.telemetry, self.topics.deadletter,
                                                 self.topics.device_status],
                      settings.kafka_partitions)

    def make_devices(self) -> list[Device]:
        """This run's registry: ten traffic counters (a subclass may choose others)."""
        return traffic_devices(f"it{self.id}-", 10)

    def bridge_args(self, client: str, *extra: str) -> list[str]:
        """Command-line options for a bridge of this run."""
        return ["--client-id", f"{self.id}-{client}", "--share-group", self.group,
                "--registry", str(self.registry), "--topic-prefix", self.prefix, *extra]


@pytest.fixture
def run(mqtt_service: Settings, kafka_service: Settings, tmp_path: Path) -> Iterator[Run]:
    """Names for one test and a gateway of its own for its devices (plus two ids the
    registry lacks, for the dead-letter tests); needs Mosquitto and Kafka."""
    this = Run(kafka_service, tmp_path)
    topics = [("traffic", d.id) for d in this.devices]
    topics += [("traffic", f"it{this.id}-ghost"), ("traffic", f"bad.id{this.id}")]
    with run_gateway(kafka_service, f"gwt-{this.id}", "traffic", topics) as login:
        this.gateway = login
        yield this


@pytest.fixture
def start_bridge(run: Run) -> Iterator[Callable[..., BridgeProcess]]:
    """Start `python -m ingest` subprocesses; all are stopped at the end of the test."""
    started: list[BridgeProcess] = []

    def start(client: str = "a", *extra: str, ready: bool = True) -> BridgeProcess:
        proc = BridgeProcess(run.bridge_args(client, *extra), run.tmp / f"bridge-{client}.log")
        started.append(proc)
        if ready:
            proc.wait_ready(60)
        return proc

    yield start
    for proc in started:  # ended sessions: offline, they would queue later tests' messages
        proc.stop_and_forget(run.settings, 30)


@pytest.fixture
def collector(run: Run) -> Iterator[Collector]:
    """Consumes the run's telemetry, dead-letter and device-status topics."""
    col = Collector(kafka_access(run.settings), [run.topics.telemetry, run.topics.deadletter,
                                                   run.topics.device_status], f"c{run.id}")
    yield col
    col.close()


@pytest.fixture
def publish(run: Run) -> Callable[..., None]:
    """Publish (topic, payload) messages as the run's gateway and wait for the broker's
    acks; `chunk`/`pause_s` spread them out over time like a live feed."""

    def send(messages: list[tuple[str, bytes]], chunk: int = 0, pause_s: float = 0.0) -> None:
        pub = Publisher(run.settings, run.gateway)
        try:
            step = chunk or len(messages)
            for start in range(0, len(messages), step):
                pub.publish_all(messages[start:start + step])
                if pause_s:
                    time.sleep(pause_s)  # pacing the feed, not waiting for a condition
            assert pub.wait_acked(90), f"broker acked {pub.acked} of {pub.sent}"
            assert pub.refused == 0, f"the broker refused {pub.refused} publish(es)"
        finally:
            pub.close()

    return send
