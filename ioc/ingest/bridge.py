"""The bridge: MQTT messages in, Kafka records out, MQTT acks only after Kafka confirmed."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ioc.core.ownership import owner_keys
from ioc.core.registry import Registry
from ioc.ingest.acks import AckTracker, Pending
from ioc.ingest.inbox import Inbox
from ioc.ingest.kafka_sink import KafkaSink, SinkConfig, SinkUnavailable
from ioc.ingest.metrics import BridgeMetrics, StatusServer
from ioc.ingest.mqtt_source import MessageHandler, MqttConfig, MqttSource
from ioc.ingest.router import KafkaRecord, KafkaTopics, Router

__all__ = ["Bridge", "BridgeConfig", "SinkFactory", "SourceFactory"]

log = logging.getLogger(__name__)

SourceFactory = Callable[[MqttConfig, MessageHandler, Callable[[], None]], Any]
SinkFactory = Callable[[SinkConfig], Any]


@dataclass(frozen=True, slots=True)
class BridgeConfig:
    """Everything one bridge instance needs besides the registry."""

    bridge_id: str
    mqtt: MqttConfig
    sink: SinkConfig
    topics: KafkaTopics = field(default_factory=KafkaTopics)
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = None  # None: no HTTP server; 0: any free port
    drain_timeout_s: float = 30.0
    # Not ready while the oldest unacked message has waited this long for Kafka.
    stall_after_s: float = 10.0
    # Partition records by their device's owner ward (key stays the device id), so the
    # worker needs no repartition hop for readings (ioc.ownership).
    co_partition: bool = True
    # QoS 0 messages waiting for the worker beyond these are dropped and counted (QoS 1
    # ones are bounded by the MQTT receive maximum and never dropped).
    qos0_queue_messages: int = 10_000
    qos0_queue_bytes: int = 16 * 1024 * 1024
    # Devices whose telemetry another bridge member forwards (ioc.ingest.members): acked
    # here without forwarding, in order with the rest.
    skip_devices: frozenset[str] = frozenset()


def _owner_keys(registry: Registry) -> dict[bytes, bytes]:
    """Device id -> owner ward, the worker's own routing (one definition of ownership)."""
    return {d.encode(): o.encode() for d, o in owner_keys(registry).items()}


def _telemetry_device(topic: str) -> str | None:
    """The device id of an `ioc/v1/{domain}/{id}/telemetry` topic, else None."""
    parts = topic.split("/")
    return parts[3] if len(parts) == 5 and parts[4] == "telemetry" else None


class _Backoff:
    """Exponential delay that resets after a quiet minute."""

    def __init__(self, first: float = 0.5, cap: float = 30.0) -> None:
        self._first, self._cap, self._delay, self._last = first, cap, first, 0.0

    def next(self) -> float:
        now = time.monotonic()
        self._delay = self._first if now - self._last > 60 else min(self._delay * 2, self._cap)
        self._last = now
        return self._delay


class Bridge:
    """One bridge instance: paho thread -> queue -> worker -> Kafka -> in-order MQTT acks."""

    def __init__(self, config: BridgeConfig, registry: Registry | None, *,
                 source_factory: SourceFactory = MqttSource,
                 sink_factory: SinkFactory = KafkaSink) -> None:
        if config.co_partition and registry is not None and not config.sink.partition_keys:
            config = replace(config, sink=replace(config.sink,
                                                  partition_keys=_owner_keys(registry)))
        self.config = config
        self._router = Router(registry, config.topics, config.bridge_id)
        self._queue = Inbox(config.qos0_queue_messages, config.qos0_queue_bytes)
        self._source = source_factory(config.mqtt, self._on_message, self._on_connection_lost)
        self._tracker = AckTracker(self._source.ack)
        self._sink_factory = sink_factory
        self._sink: Any = None
        self.metrics = BridgeMetrics(lambda: len(self._tracker))
        self.metrics.queued.set_function(lambda: len(self._queue))
        self.metrics.queued_bytes.set_function(lambda: self._queue.bytes)
        self.metrics.acked.set_function(lambda: self._tracker.acked)
        self._server: StatusServer | None = None
        self._worker = threading.Thread(target=self._work, name="bridge-worker", daemon=True)
        self._draining = False
        # Cleared when Kafka refuses or blocks a send, set again by the next confirmation.
        self._kafka_ok = True
        self._abort = threading.Event()
        self._reconnect = threading.Event()
        self._backoff = _Backoff()
        self._skip = config.skip_devices

    @property
    def status_port(self) -> int | None:
        """Port of the /metrics + /ready server, once started."""
        return self._server.port if self._server else None

    def ready(self) -> bool:
        """Subscribed to MQTT, connected to Kafka and not shutting down."""
        return (not self._draining and self._sink is not None and self._source.ready
                and self._kafka_ok
                and self._tracker.oldest_age() < self.config.stall_after_s)

    def run(self, stop: threading.Event) -> None:
        """Run until `stop` is set, then shut down gracefully."""
        try:
            self._start(stop)
            while not stop.is_set():
                if self._reconnect.wait(0.5) and not stop.is_set():
                    self._restart_source(stop)
        finally:
            self._shutdown()

    def _start(self, stop: threading.Event) -> None:
        cfg = self.config
        if cfg.metrics_port is not None:
            self._server = StatusServer(cfg.metrics_host, cfg.metrics_port, self.metrics,
                                        self.ready)
            self._server.start()
        self._sink = self._connect_sink(stop)
        if self._sink is None:
            return
        self._worker.start()
        self._source.start()
        log.info("bridge %s: started (telemetry -> %s)", cfg.bridge_id, cfg.topics.telemetry)

    def _connect_sink(self, stop: threading.Event) -> Any:
        backoff = _Backoff(first=1.0, cap=15.0)
        while not stop.is_set():
            try:
                return self._sink_factory(self.config.sink)
            except SinkUnavailable as exc:
                delay = backoff.next()
                log.warning("bridge: %s; retrying in %.1fs", exc, delay)
                stop.wait(delay)
        return None

    def _restart_source(self, stop: threading.Event) -> None:
        # A record Kafka finally refused is unacked; only a new connection makes the
        # broker redeliver it (and everything after it).
        self._reconnect.clear()
        self.metrics.reconnects.inc()
        self._source.stop()
        dropped = self._tracker.new_generation()
        delay = self._backoff.next()
        log.warning("bridge: restarting the MQTT session in %.1fs; %d unacked message(s) "
                    "will be redelivered", delay, dropped)
        if not stop.wait(delay):
            self._source.start()

    def _on_message(self, topic: str, payload: bytes, mid: int, qos: int,
                    received_at: float) -> None:
        if self._draining:
            return  # left unacked: the broker keeps it in this session for the next start
        item = (topic, payload, mid, qos, received_at, self._tracker.generation)
        if not self._queue.put(item, len(payload) + len(topic), qos):
            self.metrics.dropped.labels("qos0_queue_full").inc()

    def _on_connection_lost(self) -> None:
        self._tracker.new_generation()

    def _work(self) -> None:
        get_many, handle = self._queue.get_many, self._handle
        while (items := get_many()) is not None:
            for item in items:
                try:
                    handle(item)
                except Exception:  # the worker must survive anything; it stays unacked
                    log.exception("bridge: unexpected error handling a message")
                    self._reconnect.set()

    def _handle(self, item: tuple[Any, ...]) -> None:
        topic, payload, mid, qos, received_at, gen = item
        self.metrics.received.inc()
        pending = self._tracker.track(mid, qos, gen)
        if pending is None:
            # received on a connection that has dropped since: its packet id died with that
            # session, so it is never acked, but it is still forwarded - a broker that was
            # killed may have lost it (PUBACKed to its publisher, not yet saved), so
            # redelivery cannot be counted on; a broker that kept it sends a duplicate
            self.metrics.stale.inc()
            pending = Pending(mid, qos, gen)
        if self._skip and _telemetry_device(topic) in self._skip:
            self.metrics.skipped.inc()
            self._tracker.confirm(pending)
            return
        record = self._router.route(topic, payload, received_at)
        if record.reason is not None:
            self.metrics.deadlettered.labels(record.reason).inc()
            log.debug("bridge: dead letter %s from %s", record.reason, topic)
        self._send(record, pending)

    def _send(self, record: KafkaRecord, pending: Pending) -> None:
        delay = 0.2
        pending.kind = record.kind
        while True:
            pending.sent_at = time.perf_counter()
            try:
                self._sink.send(record.topic, record.key, record.value, record.headers,
                                self._sent, self._failed, pending)
                return
            except SinkUnavailable as exc:
                self._kafka_ok = False
                if self._abort.is_set() or pending.gen != self._tracker.generation:
                    return  # unacked, so the broker redelivers it
                log.warning("bridge: %s; retrying in %.1fs", exc, delay)
                self._abort.wait(delay)
                delay = min(delay * 2, 10.0)

    def _sent(self, pending: Pending, metadata: object) -> None:
        self.metrics.send_latency.observe(time.perf_counter() - pending.sent_at)
        self.metrics.forwarded_by_kind[pending.kind].inc()
        self._kafka_ok = True
        self._tracker.confirm(pending)

    def _failed(self, pending: Pending, exc: BaseException) -> None:
        self.metrics.send_failed.inc()
        self._kafka_ok = False
        if pending.gen == self._tracker.generation:
            log.error("bridge: Kafka refused a record (%s); message left unacked", exc)
            self._reconnect.set()

    def _shutdown(self) -> None:
        """Stop taking messages, send what was received, ack what Kafka confirmed, close."""
        timeout = self.config.drain_timeout_s
        self._draining = True
        if self._worker.is_alive():
            self._queue.close()
            self._worker.join(timeout)
        self._abort.set()
        if self._sink is not None:
            self._sink.flush(timeout)
            if not self._tracker.wait_empty(5.0):
                log.warning("bridge: %d message(s) left unacked for redelivery",
                            len(self._tracker))
            self._source.stop()
            self._sink.close(timeout)
        if self._server is not None:
            self._server.stop()
        log.info("bridge %s: stopped after acking %d message(s)", self.config.bridge_id,
                 self._tracker.acked)
