"""Kafka SIGKILLed and restarted under a running bridge, worker (with storage) and API:
every reading published before, during and after reaches Kafka and is stored exactly
once, alerts are raised in every phase, the API's alert feed recovers, and no process is
restarted by hand."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
import requests
import uvicorn

from ioc.api.context import ApiTopics
from ioc.api.main import create_app
from ioc.api.users import UserStore
from ioc.bench.loadgen import BridgeProcess, Collector, Publisher, seqs_by_device
from ioc.core.kafka_admin import ensure_topics
from ioc.core.kafka_auth import kafka_access
from ioc.core.mqtt_identities import MqttLogin
from ioc.core.registry import WARDS, Device, Registry, dump_registry
from ioc.core.settings import Settings
from ioc.core.topics import telemetry_topic
from ioc.devstack.faults import killed
from ioc.ingest.router import KafkaTopics
from ioc.testing.mqtt_logins import run_gateway
from ioc.testing.processes import WorkerProcess, free_port
from tests.integration.faults.fault_helpers import Point, exactly_once, stored_points
from tests.integration.processors.proc_helpers import Bucket, caught_up

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

DEVICES, PER_PHASE, INTERVAL_MS = 30, 20, 10_000
OUTAGE_S = 45.0  # longer than the worker's session timeout (10 s) and Kafka clients' retries
RECOVERY_S = 300.0  # delivery timeout + reconnect backoff + partition recovery, loaded CI
T0_MS = int(time.time() * 1000) - 3 * 3600 * 1000  # readings of the last hours, in order


def _drains(prefix: str) -> list[Device]:
    wards = list(WARDS.values())
    return [Device(id=f"{prefix}{i:03d}", domain="drainage", name=f"cống {i}",
                   ward=wards[i % len(wards)].slug, lat=wards[i % len(wards)].lat,
                   lon=wards[i % len(wards)].lon, interval_s=INTERVAL_MS / 1000,
                   basin=f"b{i % 4}", depth_m=2.0, warn_m=1.0, critical_m=1.6)
            for i in range(DEVICES)]


@dataclass
class Phase:
    """One phase's messages; device `riser` goes over its warning level in it."""

    riser: str
    messages: list[tuple[str, bytes]]
    sent: set[tuple[str, int]]
    points: set[Point]


def _phase(devices: list[Device], number: int, riser: Device) -> Phase:
    messages, sent, points = [], set(), set()
    for seq in range(number * PER_PHASE, (number + 1) * PER_PHASE):
        for d in devices:
            at_ms = T0_MS + seq * INTERVAL_MS
            level = 1.3 if d is riser and seq % PER_PHASE >= PER_PHASE // 2 else 0.3
            payload = orjson.dumps({"dateObserved": at_ms, "seq": seq, "waterLevel": level})
            messages.append((telemetry_topic("drainage", d.id), payload))
            sent.add((d.id, seq))
            points.add(("drainage", d.id, at_ms * 1_000_000))
    return Phase(riser.id, messages, sent, points)


class Api:
    """The real API app under uvicorn in a thread, reading the run's alerts topic."""

    def __init__(self, settings: Settings, topics: ApiTopics, registry: Registry,
                 tmp: Path) -> None:
        users = UserStore(tmp / "users.json", iterations=1000)
        users.add("view", "viewer", "password-view")
        app = create_app(settings, registry=registry, users=users, topics=topics)
        self.url = f"http://127.0.0.1:{free_port()}"
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1",
                                                     port=int(self.url.rsplit(":", 1)[1]),
                                                     log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            assert self._thread.is_alive() and time.monotonic() < deadline, "no uvicorn"
            time.sleep(0.05)  # polling the server's start flag with a deadline
        token = requests.post(f"{self.url}/api/v1/auth/token", timeout=10, data={
            "username": "view", "password": "password-view"}).json()["access_token"]
        self._headers = {"Authorization": f"Bearer {token}"}

    def alerted(self) -> set[str]:
        """Subjects of the flood.level alerts the API lists now."""
        resp = requests.get(f"{self.url}/api/v1/alerts", params={"rule": "flood.level"},
                            headers=self._headers, timeout=10)
        return {a["subject"] for a in resp.json()["data"]} if resp.status_code == 200 else set()

    def stop(self) -> None:
        """Stop uvicorn."""
        self._server.should_exit = True
        self._thread.join(15)


@dataclass
class Stack:
    """Bridge, worker (storing to the bucket) and API over one run's topics."""

    devices: list[Device]
    bridge: BridgeProcess
    worker: WorkerProcess
    api: Api
    collector: Collector
    telemetry: str
    alerts: str
    login: MqttLogin


@pytest.fixture
def stack(mqtt_service: Settings, kafka_service: Settings, influx_bucket: Bucket,
          tmp_path: Path) -> Iterator[Stack]:
    """The whole pipeline over unique topics, a registry of drains, and a bucket."""
    run = uuid.uuid4().hex[:8]
    prefix, devices = f"test-kk{run}.", _drains(f"kk{run}-")
    registry = tmp_path / "devices.yaml"
    dump_registry(devices, registry)
    bridge_topics = KafkaTopics.prefixed(prefix)
    ensure_topics(kafka_access(kafka_service), [bridge_topics.telemetry,
                  bridge_topics.deadletter, bridge_topics.device_status],
                  kafka_service.kafka_partitions)
    worker = WorkerProcess(prefix, registry, tmp_path / "worker.log", bucket=influx_bucket.name,
                           env=influx_bucket.scoped.env())  # the write-only token
    worker.start()
    bridge = BridgeProcess(["--client-id", f"kk{run}", "--share-group", "", "--registry",
                            str(registry), "--topic-prefix", prefix, "--no-status"],
                           tmp_path / "bridge.log")
    api = Api(influx_bucket.scoped.settings, ApiTopics(alerts=worker.topics.alerts,
              commands=worker.topics.commands), Registry(devices), tmp_path)
    collector = Collector(kafka_access(kafka_service), [bridge_topics.telemetry], f"kk{run}")
    try:
        bridge.wait_ready(60)
        # a gateway user of its own, allowed to publish for these drains only
        with run_gateway(kafka_service, f"gwk-{run}", "drainage",
                         [(d.domain, d.id) for d in devices]) as login:
            yield Stack(devices, bridge, worker, api, collector, bridge_topics.telemetry,
                        worker.topics.alerts, login)
    finally:
        collector.close()
        api.stop()
        bridge.stop(30)
        worker.stop(30)


def _in_kafka(collector: Collector, topic: str) -> set[tuple[str, int]]:
    return {(d, s) for d, seqs in seqs_by_device(collector.records[topic]).items()
            for s in seqs}


def _all_alive(stack: Stack) -> str:
    """'' when bridge and worker run, else which died (with the end of its log)."""
    for proc in (stack.bridge, stack.worker):
        if not proc.alive():
            return (f"{proc.name} died (exit code {proc.proc.poll()}); why, from its log:\n"
                    f"{proc.highlights()}\n... its log's end:\n{proc.log()}")
    return ""


def _missing_report(stack: Stack, phases: list[Phase]) -> str:
    """Which phases' readings never reached Kafka, the bridge's counters and its log."""
    seen = _in_kafka(stack.collector, stack.telemetry)
    missing = [f"phase {n}: {len(p.sent - seen)} of {len(p.sent)}" for n, p in enumerate(phases)]
    counters = {name: stack.bridge.metric(f"ioc_bridge_{name}_total") for name in
                ("received", "send_failed", "reconnects", "stale")}
    return (f"readings missing from Kafka after {RECOVERY_S:.0f}s: {', '.join(missing)}; "
            f"bridge {counters}\n{stack.bridge.log()}")


def test_kafka_kill_9_under_the_whole_pipeline_loses_nothing(
        stack: Stack, influx_bucket: Bucket, kafka_service: Settings,
        eventually: Callable[..., None]) -> None:
    devices = stack.devices
    phases = [_phase(devices, n, devices[n]) for n in range(3)]
    pub = Publisher(kafka_service, stack.login)
    try:
        pub.publish_all(phases[0].messages)
        eventually(lambda: phases[0].riser in stack.api.alerted(), timeout=120,
                   interval=0.5, what="the first alert through the API")

        with killed("kafka") as outage:
            pub.publish_all(phases[1].messages)  # the bridge holds them, unacknowledged
            assert pub.wait_acked(60), "Mosquitto must take them while Kafka is away"
            while time.monotonic() < outage.killed_at + OUTAGE_S:  # past session timeouts
                assert _all_alive(stack) == "", _all_alive(stack)
                assert not _in_kafka(stack.collector, stack.telemetry) & phases[1].sent
                time.sleep(1.0)  # the outage's length is the point here, not a sync
            outage.restart()

        pub.publish_all(phases[2].messages)
        assert pub.wait_acked(120), f"broker acked {pub.acked} of {pub.sent}"
    finally:
        pub.close()

    sent = set().union(*(p.sent for p in phases))
    # a record in flight at the kill can take the producer's delivery timeout (120 s), then
    # the bridge's MQTT reconnect backoff (≤ 30 s), before its redelivery is sent again
    deadline = time.monotonic() + RECOVERY_S
    while _all_alive(stack) == "" and not sent <= _in_kafka(stack.collector, stack.telemetry):
        if time.monotonic() >= deadline:
            pytest.fail(_missing_report(stack, phases))
        time.sleep(1.0)  # polling the collector with a deadline
    assert _all_alive(stack) == "", _all_alive(stack)
    risers = {p.riser for p in phases}
    eventually(lambda: stack.api.alerted() >= risers, timeout=180, interval=1.0,
               what=f"the API to list flood.level for {sorted(risers)}")
    expected = set().union(*(p.points for p in phases))
    storage = f"{stack.worker.prefix}ioc-influx-writer"

    def stored() -> bool:
        return caught_up(kafka_service, storage, [stack.telemetry]) and not exactly_once(
            stored_points(influx_bucket.scoped.settings, influx_bucket.name, ["drainage"]),
            expected)

    eventually(lambda: _all_alive(stack) != "" or stored(), timeout=180, interval=1.0,
               what="every reading stored once")
    assert exactly_once(stored_points(influx_bucket.scoped.settings, influx_bucket.name,
                                      ["drainage"]), expected) == ""
    assert _all_alive(stack) == "", _all_alive(stack)
    assert stack.bridge.get("/ready")[0] == 200
