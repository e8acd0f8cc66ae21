"""The Faust worker: readings straight into the rules on their (ward-partitioned) telemetry
partition; statuses, commands and misplaced readings re-keyed by owner ward; alerts out.

See processors.routing for the co-partitioning that makes the direct path safe.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faust
from faust.sensors.monitor import Monitor
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

from ioc.core import topics as T
from ioc.core.envelope import wrap_reading
from ioc.core.kafka_auth import kafka_access
from ioc.core.ownership import OWNER_HEADER
from ioc.core.registry import Registry
from ioc.core.schemas import Alert, reading_from_json
from ioc.core.settings import Settings
from ioc.processors.clock import TickClock
from ioc.processors.detector import Detector
from ioc.processors.rules.base import RuleSettings
from ioc.processors.worker.faust_auth import faust_broker, faust_credentials
from ioc.processors.worker.parts import (
    Batch,
    LeanMonitor,
    Outbox,
    Ownership,
    route_agents,
    to_envelope,
)
from ioc.processors.worker.routing import Router, handle_envelope

__all__ = ["AlertSource", "Batch", "LeanMonitor", "ReadingHandler", "Tuning", "Worker",
           "WorkerTopics", "create_app", "to_envelope"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WorkerTopics:
    """Kafka topic names the worker uses (overridable for tests)."""

    telemetry: str = T.TELEMETRY
    device_status: str = T.DEVICE_STATUS
    commands: str = T.ALERT_COMMANDS
    alerts: str = T.ALERTS
    deadletter: str = T.DEADLETTER
    owned: str = "ioc.worker-owned"  # internal: statuses, commands, misplaced readings

    @classmethod
    def prefixed(cls, prefix: str) -> WorkerTopics:
        """The standard names with `prefix` in front."""
        d = cls()
        return cls(*(prefix + getattr(d, f) for f in cls.__dataclass_fields__))


@dataclass(frozen=True, slots=True)
class Tuning:
    """Throughput/latency knobs: readings are taken in batches of up to `batch_max`, or
    whatever arrived within `batch_within_s` - the most a reading waits for its batch."""

    batch_max: int = 500
    batch_within_s: float = 0.005
    producer_linger_s: float = 0.0
    # Faust hard-codes 1,500 ms. aiokafka keeps one fetch per broker in flight and leaves
    # partitions with unread buffered records out of it, so when the worker is briefly
    # behind, the next fetch holds only idle partitions (commands, statuses) and the
    # broker parks it for the full wait while telemetry piles up: 1.5 s stalls.
    fetch_max_wait_ms: int = 50


class ReadingHandler:
    """Decodes each reading once and runs it through the rules if this partition owns it.

    `partitions` is the telemetry topic's partition count when the internal topic has the
    same count (co-partitioned); None sends every reading through the internal topic.
    """

    def __init__(self, detector: Detector, router: Router, partitions: int | None,
                 counts: Counter[str] | None = None) -> None:
        self._detector, self._router, self._partitions = detector, router, partitions
        self.counts: Counter[str] = Counter() if counts is None else counts

    def apply(self, partition: int, key: bytes | None, value: bytes, out: Batch,
              placed_by: bytes | None = None) -> None:
        """Handle one telemetry record; never raises on bad input.

        `placed_by` is the record's owner header: the owner key its producer partitioned it
        by. Only such records, on their owner's partition, skip the internal topic.
        """
        try:
            reading = reading_from_json(value)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            out.dead.append((key, value, f"worker:bad_reading:{str(exc)[:150]}"))
            return
        owner = self._router.device_owner(reading.device_id)
        if owner is None:
            out.dead.append((key, value, "worker:unknown_owner"))
        elif self._partitions is None or placed_by != owner.encode() or \
                self._router.partition_of(owner, self._partitions) != partition:
            # not placed by its owner here (another producer, a registry that disagrees):
            # its owner's partition of the internal topic decides
            out.reroute.append((owner, wrap_reading(value)))
        else:
            try:
                out.alerts += self._detector.process(reading)
            except Exception as exc:  # a rule bug must not crash (and re-crash) the worker
                self.counts["detect_errors"] += 1
                log.exception("rules failed on a reading of %s", reading.device_id)
                out.dead.append((key, value, f"worker:{type(exc).__name__}:{exc}"))


AlertSource = Callable[[], Iterable[Alert]]


class Worker:
    """The app plus its detector, the wards it owns, and counters.

    `alert_source` returns the current state of every published alert (the compacted alerts
    topic); the alerts of newly assigned partitions are restored from it.
    """

    def __init__(self, app: faust.App, detector: Detector, topics: WorkerTopics,
                 ownership: Ownership, alert_source: AlertSource | None = None) -> None:
        self.app, self.detector, self.topics = app, detector, topics
        self.ownership, self.alert_source = ownership, alert_source
        self.counts: Counter[str] = Counter()

    def restore(self, alerts: Iterable[Alert]) -> int:
        """Load the alerts' last states before consuming; returns how many are still open."""
        for alert in sorted(alerts, key=lambda a: (a.date_issued, a.version)):
            self.detector.restore(alert)
        return len(self.detector.open_alerts())

    def rebalance(self, assigned: Iterable[Any]) -> tuple[int, int]:
        """Take a new partition assignment: forget the wards that moved away, restore the
        alerts of the partitions gained; returns (alerts dropped, alerts restored).

        Runs inside Faust's on_partitions_assigned signal, before the new partitions are
        consumed; it blocks the event loop while it reads the alerts topic, on purpose: no
        record of a gained partition may reach the rules before its alerts are restored.
        """
        own = self.ownership
        lost, gained = own.reassign(own.partitions_of(assigned))
        dropped = self.detector.drop_owners(own.owners_in(lost)) if lost else 0
        restored: list[Alert] = []
        if gained and self.alert_source is not None:
            restored = own.alerts_in(self.alert_source(), gained)
            self.restore(restored)
        log.info("partitions of %s: %s; lost %s (%d alert(s) dropped), gained %s; "
                 "restored %d alert(s), %d open", own.topic, sorted(own.assigned),
                 sorted(lost), dropped, sorted(gained), len(restored),
                 len(self.detector.open_alerts()))
        return dropped, len(restored)


_FETCH_WAIT_ATTR = "_ioc_fetch_max_wait_ms"


def _install_fetch_wait() -> None:
    """Let an app override Faust's fixed consumer fetch wait (see Tuning.fetch_max_wait_ms)."""
    create = AIOKafkaConsumerThread._create_worker_consumer
    if getattr(create, "_ioc_wrapped", False):
        return

    def wrapped(self: Any, transport: Any) -> Any:
        consumer = create(self, transport)
        wait = getattr(self.app, _FETCH_WAIT_ATTR, None)
        if wait is not None:  # read by AIOKafkaConsumer.start() when it builds its Fetcher
            consumer._fetch_max_wait_ms = wait
        return consumer

    wrapped._ioc_wrapped = True  # type: ignore[attr-defined]
    AIOKafkaConsumerThread._create_worker_consumer = wrapped  # type: ignore[method-assign]


def _faust_app(settings: Settings, app_id: str, web_port: int | None,
               session_timeout_s: float, tuning: Tuning) -> faust.App:
    # the data dir holds nothing we need (memory store); keep it out of the working tree
    datadir = Path(tempfile.gettempdir()) / "ioc-faust" / app_id
    datadir.parent.mkdir(parents=True, exist_ok=True)
    _install_fetch_wait()
    kafka = kafka_access(settings)
    app = faust.App(app_id, broker=faust_broker(kafka), store="memory://",
                    broker_credentials=faust_credentials(kafka),
                    datadir=datadir, stream_recovery_delay=0.0,
                    # a killed worker's partitions move (or its restart resumes) after this
                    # long instead of the 60 s default
                    broker_session_timeout=session_timeout_s,
                    key_serializer="raw", value_serializer="raw",
                    producer_linger=tuning.producer_linger_s,
                    Monitor=LeanMonitor if web_port is None else Monitor,
                    web_enabled=web_port is not None, web_port=web_port or 6066,
                    topic_partitions=settings.kafka_partitions, topic_replication_factor=1,
                    consumer_auto_offset_reset="earliest")
    setattr(app, _FETCH_WAIT_ATTR, tuning.fetch_max_wait_ms)
    return app


def create_app(settings: Settings, registry: Registry, topics: WorkerTopics | None = None, *,
               app_id: str = "ioc-worker", web_port: int | None = None, tick_s: float = 5.0,
               rules: RuleSettings | None = None, session_timeout_s: float = 10.0,
               partitions: int | None = None, tuning: Tuning | None = None,
               alert_source: AlertSource | None = None) -> Worker:
    """Build the faust-streaming app; `web_port=None` disables its web server.

    `partitions`: the telemetry (= internal topic) partition count when co-partitioned,
    None to re-key every reading through the internal topic. `alert_source`: see Worker.
    """
    tp, tune = topics or WorkerTopics(), tuning or Tuning()
    app = _faust_app(settings, app_id, web_port, session_timeout_s, tune)
    # silent_unseen off: a worker only judges devices whose partitions it has seen
    detector = Detector(registry, rules or RuleSettings(silent_unseen=False))
    owned_count = partitions or settings.kafka_partitions
    worker = Worker(app, detector, tp, Ownership(registry, tp.owned, owned_count), alert_source)
    router, clock = Router(registry), TickClock()
    readings = ReadingHandler(detector, router, partitions, worker.counts)
    owned = app.topic(tp.owned, partitions=owned_count, internal=True)
    alerts = app.topic(tp.alerts, config={"cleanup.policy": "compact"})
    deadletter = app.topic(tp.deadletter)
    publish = Outbox(worker.counts, alerts, owned, deadletter).publish
    _ownership_signals(app, worker)

    @app.agent(app.topic(tp.telemetry), name="detect_readings")
    async def detect_readings(stream: Any) -> None:
        async for events in stream.take_events(tune.batch_max, within=tune.batch_within_s):
            batch = Batch()
            for event in events:
                msg = event.message
                readings.apply(msg.partition, msg.key, msg.value, batch,
                               _header(msg.headers, OWNER_HEADER))
            worker.counts["readings"] += len(events)
            await publish(batch)

    route_agents(app, router, (tp.device_status, tp.commands), tune.batch_max,
                 tune.batch_within_s, publish)
    _detect_agent(app, worker, owned, publish)

    @app.timer(tick_s)
    async def tick() -> None:
        if worker.ownership.paused:  # rebalancing: the wards held may be about to move
            return
        now = clock.now(detector.clock, time.monotonic())
        await publish(Batch(alerts=detector.tick(now) if now is not None else []))

    return worker


def _header(headers: Any, name: str) -> bytes | None:
    """One header's value from Faust's headers (a mapping or a list of pairs)."""
    if not headers:
        return None
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in pairs:
        if key == name:
            return bytes(value)
    return None


def _ownership_signals(app: faust.App, worker: Worker) -> None:
    """Pause the tick from a revocation; drop and restore wards on the next assignment."""
    @app.on_partitions_revoked.connect
    def on_revoked(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        worker.ownership.paused = True

    @app.on_partitions_assigned.connect
    def on_assigned(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        worker.rebalance(args[0] if args else kwargs.get("assigned", ()))


def _detect_agent(app: faust.App, worker: Worker, owned: Any, publish: Any) -> None:
    """The owner-keyed internal topic: statuses, commands, readings from other partitions."""
    @app.agent(owned, name="detect")
    async def detect(stream: Any) -> None:
        async for value in stream:
            try:
                changed = handle_envelope(worker.detector, value)
            except Exception as exc:  # a bad message must never stop the worker
                worker.counts["detect_errors"] += 1
                log.exception("cannot apply message: %s", exc)
                continue
            await publish(Batch(alerts=changed))
