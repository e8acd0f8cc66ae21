"""Parts of the Faust worker: its output batch and outbox, the re-keying agents, and partition
ownership (which wards this worker holds)."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

import faust
import orjson

from ioc.core import envelope
from ioc.core.envelope import Kind
from ioc.core.ownership import owner_keys
from ioc.core.registry import Registry
from ioc.core.schemas import Alert
from ioc.processors.worker.faust_app import RAW, queued_batches
from ioc.processors.worker.routing import Router

__all__ = ["Batch", "HeldReadings", "Outbox", "Ownership", "Step", "retried", "route_agents",
           "to_envelope"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Batch:
    """What one batch of records produced."""

    alerts: list[Alert] = field(default_factory=list)
    reroute: list[tuple[str, bytes]] = field(default_factory=list)  # (owner, envelope)
    dead: list[tuple[bytes | None, bytes, str]] = field(default_factory=list)


@dataclass(slots=True)
class HeldReadings:
    """Telemetry events handled but not yet checkpointed (so not acked): a batch that makes
    no alert, re-key or dead letter waits, up to `every_s` or `most` events, for the batches
    after it, and one checkpoint covers them all. Any other batch is checkpointed at once,
    with everything held before it, so an alert waits for no timer."""

    every_s: float
    most: int
    events: list[Any] = field(default_factory=list)
    since: float = 0.0  # when the oldest held event was handled

    def wait_s(self, now: float) -> float | None:
        """How long the agent may wait for input before the held checkpoint is due."""
        return None if not self.events else max(0.0, self.since + self.every_s - now)

    def add(self, events: list[Any], batch: Batch, now: float) -> bool:
        """Hold a handled batch's events; True if the checkpoint is due now."""
        if events and not self.events:
            self.since = now
        self.events += events
        return bool(batch.alerts or batch.reroute or batch.dead or not events or
                    len(self.events) >= self.most or now - self.since >= self.every_s)

    def release(self) -> list[Any]:
        """The held events, once their checkpoint is written: the caller acks them."""
        out, self.events = self.events, []
        return out


def to_envelope(router: Router, source: str, value: bytes) -> tuple[str, bytes]:
    """Re-key one input message by its owner; raises ValueError with a reason if it cannot."""
    doc = orjson.loads(value)
    if not isinstance(doc, dict):
        raise ValueError("not_object")
    if source == "command":
        owner, kind, payload = router.alert_owner(str(doc.get("alertId", ""))), Kind.COMMAND, doc
    elif source == "status":
        at = datetime.fromisoformat(doc["at"]).timestamp()
        owner, kind = router.device_owner(str(doc.get("deviceId"))), Kind.STATUS
        payload = {"device": doc["deviceId"], "status": doc["status"], "at": at}
    else:
        owner, kind, payload = router.device_owner(str(doc.get("deviceId"))), Kind.READING, doc
    if owner is None:
        raise ValueError("unknown_owner")
    return owner, envelope.encode(kind, payload)


class Ownership:
    """The owner keys (wards) this worker holds: those whose partition of the owner-keyed
    internal topic is assigned to it. Paused from a revocation until the next assignment."""

    def __init__(self, registry: Registry, topic: str, partitions: int) -> None:
        self.router, self.topic, self.partitions = Router(registry), topic, partitions
        self._owners = frozenset(owner_keys(registry).values())
        self.assigned: frozenset[int] = frozenset()
        self.paused = True  # nothing is owned before the first assignment

    def partitions_of(self, assigned: Iterable[Any]) -> frozenset[int]:
        """The internal topic's partitions among assigned topic partitions (.topic/.partition)."""
        return frozenset(tp.partition for tp in assigned if tp.topic == self.topic)

    def reassign(self, parts: Collection[int]) -> tuple[frozenset[int], frozenset[int]]:
        """Take a new assignment; returns the (lost, gained) partitions and resumes."""
        new = frozenset(parts)
        lost, gained = self.assigned - new, new - self.assigned
        self.assigned, self.paused = new, False
        return lost, gained

    def owners_in(self, parts: Collection[int]) -> frozenset[str]:
        """The owner keys whose partition is among `parts`."""
        return frozenset(o for o in self._owners
                         if self.router.partition_of(o, self.partitions) in parts)

    def alerts_in(self, alerts: Iterable[Alert], parts: Collection[int]) -> list[Alert]:
        """The alerts whose owner's partition is among `parts` (unknown owners: none)."""
        kept = []
        for alert in alerts:
            owner = self.router.alert_owner(alert.id)
            if owner is not None and self.router.partition_of(owner, self.partitions) in parts:
                kept.append(alert)
        return kept


class Outbox:
    """Sends what the agents produced."""

    def __init__(self, counts: Counter[str], alerts: Any, owned: Any, deadletter: Any,
                 owned_partition: Callable[[str], int]) -> None:
        self._counts, self._alerts, self._owned, self._dead = counts, alerts, owned, deadletter
        # the owner's partition, not the producer's hash of the key (ioc.core.ownership)
        self._owned_partition = owned_partition
        # agents take turns queueing records (FIFO), so the versions of one alert reach
        # Kafka in the order the detector made them even when two agents change it
        self._turn = asyncio.Lock()

    @property
    def counts(self) -> Counter[str]:
        """The worker's counters, which the outbox adds to."""
        return self._counts

    async def publish(self, batch: Batch) -> None:
        """Send a batch's output; return once Kafka has it, so its offsets may be committed."""
        if not (batch.alerts or batch.reroute or batch.dead):
            return
        sent: list[Awaitable[Any]] = []
        counts = self._counts
        async with self._turn:
            for alert in batch.alerts:
                sent.append(await self._alerts.send(key=alert.id.encode(),
                                                    value=alert.to_json()))
            for owner, env in batch.reroute:
                counts["rerouted"] += 1
                sent.append(await self._owned.send(key=owner.encode(), value=env,
                                                   partition=self._owned_partition(owner)))
            for key, value, reason in batch.dead:
                counts["deadletter"] += 1
                sent.append(await self._dead.send(key=key, value=value,
                                                  headers={"reason": reason[:200].encode()}))
        await asyncio.gather(*sent)


Step = Callable[[], Awaitable[None]]


async def retried(step: Step, counts: Counter[str], first_s: float | None) -> None:
    """Run a step once (`first_s` None: a failure raises) or until it succeeds, backing off
    from `first_s` to 10 s, each failure logged and counted as `commit_errors`."""
    delay = first_s
    while True:
        try:
            return await step()
        except Exception:
            if delay is None:
                raise
            counts["commit_errors"] += 1
            log.exception("checkpoint or output of a batch failed; retry in %.1f s", delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 10.0)


def route_agents(app: faust.App, router: Router, topics: tuple[str, str], batch_max: int,
                 outbox: Outbox, retry_s: float) -> None:
    """Statuses and commands (low volume) are re-keyed by owner into the internal topic;
    each record is acked once its envelope (or dead letter) is in Kafka."""
    def reroute(source: str) -> Any:
        async def agent(stream: Any) -> None:
            async for events in queued_batches(stream, batch_max):
                batch = Batch()
                for event in events:
                    key, value = event.message.key, event.message.value
                    try:
                        batch.reroute.append(to_envelope(router, source, value))
                    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError) as exc:
                        log.warning("unroutable %s message: %s", source, exc)
                        batch.dead.append((key, value, f"worker:{exc}"))
                # a resend after a failure is harmless: a status is idempotent, and the
                # detector applies a command once per command id
                await retried(partial(outbox.publish, batch), outbox.counts, retry_s)
                for event in events:
                    event.ack()
        agent.__name__ = f"route_{source}"
        return agent

    status, commands = topics
    app.agent(app.topic(status, schema=RAW), name="route_status")(reroute("status"))
    app.agent(app.topic(commands, schema=RAW), name="route_commands")(reroute("command"))
