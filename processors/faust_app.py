"""The Faust worker: telemetry, statuses and commands re-keyed by owner ward, rules, alerts out."""

from __future__ import annotations

import logging
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import faust
import orjson

from ioc import topics as T
from ioc.registry import Registry
from ioc.schemas import Alert
from ioc.settings import Settings

from .clock import TickClock
from .detector import Detector
from .routing import Router, handle_envelope
from .rules.base import RuleSettings

__all__ = ["Worker", "WorkerTopics", "create_app", "to_envelope"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WorkerTopics:
    """Kafka topic names the worker uses (overridable for tests)."""

    telemetry: str = T.TELEMETRY
    device_status: str = T.DEVICE_STATUS
    commands: str = T.ALERT_COMMANDS
    alerts: str = T.ALERTS
    deadletter: str = T.DEADLETTER
    owned: str = "ioc.worker-owned"  # internal: everything re-keyed by owner ward

    @classmethod
    def prefixed(cls, prefix: str) -> WorkerTopics:
        """The standard names with `prefix` in front."""
        d = cls()
        return cls(*(prefix + getattr(d, f) for f in cls.__dataclass_fields__))


def to_envelope(router: Router, source: str, value: bytes) -> tuple[str, bytes]:
    """Re-key one input message by its owner; raises ValueError with a reason if it cannot."""
    doc = orjson.loads(value)
    if not isinstance(doc, dict):
        raise ValueError("not_object")
    if source == "command":
        owner, env = router.alert_owner(str(doc.get("alertId", ""))), {"k": "c", "v": doc}
    elif source == "status":
        at = datetime.fromisoformat(doc["at"]).timestamp()
        owner = router.device_owner(str(doc.get("deviceId")))
        env = {"k": "s", "v": {"device": doc["deviceId"], "status": doc["status"], "at": at}}
    else:
        owner, env = router.device_owner(str(doc.get("deviceId"))), {"k": "r", "v": doc}
    if owner is None:
        raise ValueError("unknown_owner")
    return owner, orjson.dumps(env)


class Worker:
    """The app plus its detector and counters."""

    def __init__(self, app: faust.App, detector: Detector, topics: WorkerTopics) -> None:
        self.app, self.detector, self.topics = app, detector, topics
        self.counts: Counter[str] = Counter()

    def restore(self, alerts: Iterable[Alert]) -> int:
        """Load the alerts' last states before consuming; returns how many are still open."""
        for alert in sorted(alerts, key=lambda a: (a.date_issued, a.version)):
            self.detector.restore(alert)
        return len(self.detector.open_alerts())


def create_app(settings: Settings, registry: Registry, topics: WorkerTopics | None = None, *,
               app_id: str = "ioc-worker", web_port: int | None = None, tick_s: float = 5.0,
               rules: RuleSettings | None = None, session_timeout_s: float = 10.0) -> Worker:
    """Build the faust-streaming app; `web_port=None` disables its web server."""
    tp = topics or WorkerTopics()
    # the data dir holds nothing we need (memory store); keep it out of the working tree
    datadir = Path(tempfile.gettempdir()) / "ioc-faust" / app_id
    datadir.parent.mkdir(parents=True, exist_ok=True)
    app = faust.App(app_id, broker=f"kafka://{settings.kafka_bootstrap}", store="memory://",
                    datadir=datadir, stream_recovery_delay=0.0,
                    # a killed worker's partitions move (or its restart resumes) after this
                    # long instead of the 60 s default
                    broker_session_timeout=session_timeout_s,
                    key_serializer="raw", value_serializer="raw",
                    web_enabled=web_port is not None, web_port=web_port or 6066,
                    topic_partitions=settings.kafka_partitions, topic_replication_factor=1,
                    consumer_auto_offset_reset="earliest")
    # silent_unseen off: a worker only judges devices whose partitions it has seen
    detector = Detector(registry, rules or RuleSettings(silent_unseen=False))
    worker, router, clock = Worker(app, detector, tp), Router(registry), TickClock()
    owned = app.topic(tp.owned, partitions=settings.kafka_partitions, internal=True)
    alerts = app.topic(tp.alerts, config={"cleanup.policy": "compact"})
    deadletter = app.topic(tp.deadletter)

    def reroute(source: str) -> Any:
        async def agent(stream: Any) -> None:
            async for key, value in stream.items():
                try:
                    owner, env = to_envelope(router, source, value)
                except (ValueError, KeyError, TypeError, orjson.JSONDecodeError) as exc:
                    worker.counts[f"deadletter_{source}"] += 1
                    log.warning("unroutable %s message: %s", source, exc)
                    await deadletter.send(key=key, value=value,
                                          headers={"reason": f"worker:{exc}"[:200].encode()})
                    continue
                await owned.send(key=owner.encode(), value=env)
        agent.__name__ = f"route_{source}"
        return agent

    app.agent(app.topic(tp.telemetry), name="route_telemetry")(reroute("reading"))
    app.agent(app.topic(tp.device_status), name="route_status")(reroute("status"))
    app.agent(app.topic(tp.commands), name="route_commands")(reroute("command"))

    @app.agent(owned, name="detect")
    async def detect(stream: Any) -> None:
        async for value in stream:
            try:
                changed = handle_envelope(detector, value)
            except Exception as exc:  # a bad message must never stop the worker
                worker.counts["detect_errors"] += 1
                log.exception("cannot apply message: %s", exc)
                continue
            for alert in changed:
                await alerts.send(key=alert.id.encode(), value=alert.to_json())

    @app.timer(tick_s)
    async def tick() -> None:
        now = clock.now(detector.clock, time.monotonic())
        for alert in detector.tick(now) if now is not None else ():
            await alerts.send(key=alert.id.encode(), value=alert.to_json())

    return worker
