"""Load tools shared by the bridge benchmark and the integration tests: devices, a gateway
publisher, a Kafka collector and a bridge subprocess."""

from __future__ import annotations

import logging
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson
import paho.mqtt.client as mqtt
from kafka import KafkaConsumer, TopicPartition

from ioc.core.errors import ServiceError
from ioc.core.kafka_auth import KafkaAccess
from ioc.core.mqtt_identities import MqttLogin
from ioc.core.registry import Device
from ioc.core.settings import Settings
from ioc.core.topic_reader import assign_at
from ioc.core.topics import telemetry_topic
from ioc.testing.processes import ChildProcess, free_port

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_PUBLISH_WINDOW", "MAX_PUBLISH_WINDOW", "BridgeProcess", "Collected",
           "Collector", "Publisher", "forget_session", "seqs_by_device", "sequenced",
           "session_ended", "traffic_devices", "traffic_payload"]


def traffic_devices(prefix: str, count: int) -> list[Device]:
    """`count` traffic counters with ids `{prefix}{i}` spread over the wards."""
    wards = ("tan-phu", "tan-dong", "tan-binh", "tan-xuan")
    return [Device(id=f"{prefix}{i}", domain="traffic", name=f"Counter {i}",
                   ward=wards[i % len(wards)], lat=11.53, lon=106.89, interval_s=10,
                   road="QL14", direction="N", free_flow_kmh=50) for i in range(count)]


def traffic_payload(seq: int, epoch_ms: int | None = None) -> bytes:
    """A valid TrafficFlowObserved payload carrying `seq`."""
    return orjson.dumps({"dateObserved": epoch_ms or int(time.time() * 1000), "seq": seq,
                         "intensity": seq % 50, "averageVehicleSpeed": 42.5,
                         "occupancy": 0.25})


def sequenced(devices: Sequence[Device], per_device: int) -> list[tuple[str, bytes]]:
    """Round-robin (topic, payload) messages, seq 0..per_device-1 for each device."""
    now = int(time.time() * 1000)
    return [(telemetry_topic(d.domain, d.id), traffic_payload(seq, now))
            for seq in range(per_device) for d in devices]


# MQTT packet ids are 16 bits: with more than 65,535 QoS 1 messages unacknowledged, paho
# reuses ids still in flight and silently overwrites those messages. A window far below
# that keeps every id unique; 10,000 is enough to keep the broker busy.
MAX_PUBLISH_WINDOW: Final = 60_000
DEFAULT_PUBLISH_WINDOW: Final = 10_000


class Publisher:
    """A QoS 1 publisher logged in as a gateway (its own secret and bound client id, e.g.
    from ioc.testing.mqtt_logins); counts broker acknowledgements.

    At most `window` messages are unacknowledged at a time: `publish` waits (up to
    `stall_s`) for acks before queueing more.
    """

    def __init__(self, settings: Settings, login: MqttLogin, *,
                 window: int = DEFAULT_PUBLISH_WINDOW, stall_s: float = 120.0) -> None:
        if not 0 < window <= MAX_PUBLISH_WINDOW:
            raise ValueError(f"window must be 1..{MAX_PUBLISH_WINDOW} (MQTT packet ids are "
                             f"16 bits), not {window}")
        self._window, self._stall_s = window, stall_s
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=login.cid,
                                   protocol=mqtt.MQTTv5)
        self._client.username_pw_set(login.username, login.password)
        self._client.max_inflight_messages_set(min(window, 2000))
        self._client.max_queued_messages_set(0)
        self._acked = 0
        self.refused = 0
        self._cond = threading.Condition()
        self._client.on_publish = self._on_publish
        self._client.connect(settings.mqtt_host, settings.mqtt_port, keepalive=30)
        self._client.loop_start()
        self.sent = 0

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int,
                    reason: mqtt.ReasonCode, properties: Any) -> None:
        with self._cond:
            self._acked += 1
            if reason.is_failure:  # e.g. 135 not authorized: the ACL refused the topic
                self.refused += 1
            self._cond.notify_all()

    @property
    def acked(self) -> int:
        """Messages the broker acknowledged."""
        return self._acked

    @property
    def outstanding(self) -> int:
        """Messages sent and not yet acknowledged."""
        return self.sent - self._acked

    def _make_room(self) -> None:
        """Block until fewer than `window` messages are unacknowledged."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.sent - self._acked < self._window,
                                       self._stall_s):
                raise ServiceError(f"publisher: {self.outstanding} messages unacknowledged "
                                   f"for {self._stall_s:.0f}s (is the broker up?)")

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
        """Queue one message, first waiting for acks if `window` are outstanding."""
        if qos and self.sent - self._acked >= self._window:
            self._make_room()
        self._client.publish(topic, payload, qos=qos, retain=retain)
        if qos:
            self.sent += 1

    def publish_all(self, messages: Sequence[tuple[str, bytes]], qos: int = 1) -> None:
        """Queue many messages in windows of at most `window` unacknowledged ones."""
        publish, window = self._client.publish, self._window
        for topic, payload in messages:
            if qos and self.sent - self._acked >= window:
                self._make_room()
            publish(topic, payload, qos=qos)
            if qos:
                self.sent += 1

    def flush(self) -> None:
        """Nothing to send: paho's network thread writes each message as it comes."""

    def wait_acked(self, timeout: float) -> bool:
        """Wait until the broker acknowledged everything sent."""
        with self._cond:
            return self._cond.wait_for(lambda: self._acked >= self.sent, timeout)

    def close(self) -> None:
        """Disconnect."""
        self._client.disconnect()
        self._client.loop_stop()


@dataclass(frozen=True, slots=True)
class Collected:
    """One consumed record."""

    key: bytes | None
    value: bytes
    headers: dict[str, bytes]
    partition: int
    offset: int
    timestamp_ms: int = 0


class Collector:
    """Consumes topics from the beginning in a thread; the test or benchmark polls it."""

    def __init__(self, kafka: KafkaAccess, topics: Sequence[str], group: str = "") -> None:
        # Partitions are assigned by hand, not through a consumer group: a collector must see
        # every record from offset 0 whatever the group coordinator is doing (on a freshly
        # formatted Kafka it can evict a busy member and leave it with nothing assigned).
        self._consumer = KafkaConsumer(**kafka.client_options(), group_id=None,
                                       enable_auto_commit=False, fetch_max_wait_ms=100,
                                       max_poll_records=5000, client_id=group or None)
        parts = [TopicPartition(t, p) for t in topics for p in self._partitions(t)]
        assign_at(self._consumer, parts)
        self.records: dict[str, list[Collected]] = {t: [] for t in topics}
        self.last_at = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="collector", daemon=True)
        self._thread.start()

    def _partitions(self, topic: str, timeout: float = 30.0) -> set[int]:
        deadline = time.monotonic() + timeout
        while not (found := self._consumer.partitions_for_topic(topic)):
            if time.monotonic() > deadline:
                raise ServiceError(f"topic {topic} has no partitions after {timeout:.0f}s "
                                   "(create it first, e.g. with ensure_topics)")
            time.sleep(0.05)
        return set(found)

    def _run(self) -> None:
        while not self._stop.is_set():
            batch = self._consumer.poll(timeout_ms=200)
            for tp, recs in batch.items():
                self.records[tp.topic].extend(
                    Collected(r.key, r.value, {k: v for k, v in r.headers or ()},
                              r.partition, r.offset, r.timestamp) for r in recs)
            if batch:
                self.last_at = time.perf_counter()

    def count(self, topic: str) -> int:
        """Records consumed so far from one topic."""
        return len(self.records[topic])

    def wait(self, topic: str, n: int, timeout: float) -> bool:
        """Wait until `n` records of `topic` arrived; True if they did."""
        deadline = time.monotonic() + timeout
        while self.count(topic) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.count(topic) >= n

    def close(self) -> None:
        """Stop consuming."""
        self._stop.set()
        self._thread.join(10)
        self._consumer.close()


def forget_session(settings: Settings, client_id: str, members: int = 1) -> None:
    """End the persistent MQTT session(s) of a finished drainer (`members` > 1: the
    member ids of `ioc bridge --processes`), so the broker stops queueing for it."""
    from ioc.ingest.members import Membership

    for index in range(members):
        cid = Membership(index, members).client_id(client_id)
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid,
                             protocol=mqtt.MQTTv5)
        client.username_pw_set(settings.mqtt_username, settings.mqtt_password.get_secret_value())
        try:
            # clean start with no expiry: the broker drops the old session and this one
            client.connect(settings.mqtt_host, settings.mqtt_port, keepalive=10,
                           clean_start=True)
            client.disconnect()
        except OSError as exc:
            log.warning("could not end the MQTT session %s: %s", cid, exc)


@contextmanager
def session_ended(settings: Settings, client_id: str, members: int = 1) -> Iterator[None]:
    """`forget_session` when the block ends, also when it fails: a drainer's session left
    behind queues every later message on its topics and is rewritten by every autosave of
    the broker until it expires (a week here; one left by an aborted peer round held 52,000
    messages, 12.9 MB saved every 60 s, for hours)."""
    try:
        yield
    finally:
        forget_session(settings, client_id, members)


def seqs_by_device(records: Sequence[Collected]) -> dict[str, list[int]]:
    """Device id -> the `seq` values of its readings, in consumption order."""
    out: dict[str, list[int]] = {}
    for rec in records:
        key = rec.key.decode() if rec.key else ""
        out.setdefault(key, []).append(orjson.loads(rec.value)["seq"])
    return out


class BridgeProcess(ChildProcess):
    """`python -m ioc.ingest` as a subprocess (started at once), with its status server;
    `members` > 1 runs `--processes members`, member i serving status on port + i."""

    def __init__(self, args: Sequence[str], log_file: Path, metrics_port: int | None = None,
                 env: Mapping[str, str] | None = None, members: int = 1) -> None:
        self.members = members
        self.port = metrics_port or free_port(members)
        # a short session: a finished test's bridge must not leave the broker queueing for it
        super().__init__("bridge", [sys.executable, "-m", "ioc.ingest", "--metrics-port",
                                    str(self.port), "--session-expiry", "300",
                                    "--processes", str(members), *args],
                         log_file, env=env)
        self.start()

    def stop_and_forget(self, settings: Settings, timeout: float = 30.0) -> None:
        """Stop, then end the bridge's MQTT session(s): until it expires, an offline bridge
        session queues every telemetry message anyone publishes (seen: a 148 MB broker
        store, rewritten every autosave, from benches run minutes earlier)."""
        self.stop(timeout)
        argv = self.argv
        if "--client-id" in argv:
            forget_session(settings, argv[argv.index("--client-id") + 1], self.members)

    def get(self, path: str, member: int = 0) -> tuple[int, bytes]:
        """HTTP GET on one member's status server."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port + member}{path}",
                                        timeout=2) as r:
                return int(r.status), bytes(r.read())
        except urllib.error.HTTPError as exc:
            return int(exc.code), b""
        except OSError:
            return 0, b""

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Wait for /ready to answer 200 on every member; ServiceError if the process dies
        or time runs out."""
        self.wait_until(lambda: all(self.get("/ready", m)[0] == 200
                                    for m in range(self.members)), timeout, "/ready 200")

    def metric(self, name: str) -> float:
        """Sum of one metric's samples from /metrics of every member (0 when absent)."""
        total = 0.0
        for member in range(self.members):
            _, body = self.get("/metrics", member)
            for line in body.decode().splitlines():
                if line.startswith(name) and line[len(name):len(name) + 1] in (" ", "{"):
                    total += float(line.rsplit(" ", 1)[1])
        return total
