"""The API's live alerts: an in-memory view kept current from `ioc.alerts`, and its queries.

Folding is `ioc.core.alerts_topic.AlertFold` (the same as `ioc alerts` and the worker);
this module adds what a live server needs on top: a lock, change subscriptions for the
WebSocket, filtered listing, and the background thread that follows the topic.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from kafka.errors import KafkaError

from ioc.core.alerts_topic import AlertFold, AlertsTopicReader, Change, Record, Removed
from ioc.core.kafka_auth import KafkaAccess
from ioc.core.schemas import Alert

__all__ = ["AlertFeed", "AlertFilter", "AlertView", "KafkaAlertFeed", "Subscription",
           "select_alerts"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """GET /alerts filters; an empty tuple means any value."""

    status: tuple[str, ...] = ()
    rule: tuple[str, ...] = ()
    ward: tuple[str, ...] = ()
    severity: tuple[str, ...] = ()

    def matches(self, a: Alert) -> bool:
        """Whether the alert passes every non-empty filter."""
        return ((not self.status or a.status in self.status)
                and (not self.rule or a.rule in self.rule)
                and (not self.ward or a.ward in self.ward)
                and (not self.severity or a.severity in self.severity))


def select_alerts(alerts: Iterable[Alert], flt: AlertFilter, limit: int) -> tuple[list[Alert], int]:
    """Matching alerts newest first (by dateIssued, then id), at most `limit`, and the total."""
    matching = sorted((a for a in alerts if flt.matches(a)),
                      key=lambda a: (a.date_issued, a.id), reverse=True)
    return matching[:limit], len(matching)


class Subscription:
    """One asyncio consumer of alert changes; fed from any thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, maxsize: int = 1000) -> None:
        self._loop = loop
        self.queue: asyncio.Queue[Alert] = asyncio.Queue(maxsize)
        # set when the subscriber must reload rather than read on: it fell too far behind,
        # or an alert was deleted (the live stream has no message for a deletion)
        self.overflowed = False

    def push(self, change: Change) -> None:
        """Hand one change to the subscriber's loop (thread-safe)."""
        with contextlib.suppress(RuntimeError):  # a closed loop: the subscriber is gone
            self._loop.call_soon_threadsafe(self._put, change)

    def _put(self, change: Change) -> None:
        if isinstance(change, Removed):
            self.overflowed = True  # the waiting reader wakes on the put below and reloads
        try:
            self.queue.put_nowait(change.alert if isinstance(change, Removed) else change)
        except asyncio.QueueFull:
            self.overflowed = True

    async def get(self) -> Alert:
        """The next change."""
        return await self.queue.get()


class AlertView:
    """Latest version of every alert by id; the feed thread applies, routes read."""

    def __init__(self, alerts: Sequence[Alert] = (), ready: bool = False) -> None:
        self._lock = threading.Lock()
        self._fold = AlertFold(alerts)
        self._subs: set[Subscription] = set()
        self._ready = threading.Event()
        if ready:
            self._ready.set()

    @property
    def ready(self) -> bool:
        """Whether the view has caught up with the alerts topic at least once."""
        return self._ready.is_set()

    def mark_ready(self) -> None:
        """Called by the feed once it has read to the end of the topic."""
        if not self._ready.is_set():
            log.info("alert view caught up: %d alerts", len(self))
        self._ready.set()

    def apply(self, alert: Alert) -> bool:
        """Fold one alert state in; subscribers hear of it if it is newer."""
        with self._lock:
            changed = self._fold.apply(alert)
            subs = list(self._subs) if changed else []  # taken with the change: no gap
        for sub in subs:
            sub.push(alert)
        return changed

    def apply_record(self, record: Record) -> Change | None:
        """Fold one record of the topic in (a tombstone deletes); subscribers hear of changes."""
        with self._lock:
            change = self._fold.apply_record(record)
            subs = list(self._subs)
        if change is not None:
            for sub in subs:
                sub.push(change)
        return change

    @property
    def undecodable(self) -> int:
        """How many records of the topic could not be decoded."""
        with self._lock:
            return self._fold.undecodable

    def get(self, alert_id: str) -> Alert | None:
        """The alert's current state, or None."""
        with self._lock:
            return self._fold.alerts.get(alert_id)

    def snapshot(self) -> list[Alert]:
        """Every alert's current state."""
        with self._lock:
            return list(self._fold.alerts.values())

    @property
    def subscriber_count(self) -> int:
        """How many live subscriptions there are."""
        with self._lock:
            return len(self._subs)

    def __len__(self) -> int:
        with self._lock:
            return len(self._fold.alerts)

    def subscribe(self, loop: asyncio.AbstractEventLoop, maxsize: int = 1000) -> Subscription:
        """Start receiving changes; take the snapshot after this so nothing falls between."""
        sub = Subscription(loop, maxsize)
        with self._lock:
            self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Stop receiving changes."""
        with self._lock:
            self._subs.discard(sub)


class AlertFeed(Protocol):
    """Something that keeps an AlertView current in the background."""

    def start(self, view: AlertView) -> None: ...

    def stop(self) -> None: ...


class KafkaAlertFeed:
    """A thread that reads the compacted alerts topic from the beginning, then follows it."""

    def __init__(self, kafka: KafkaAccess, topic: str, poll_ms: int = 300,
                 refresh_s: float = 30.0, reader: AlertsTopicReader | None = None) -> None:
        self._reader = reader or AlertsTopicReader(kafka, topic, poll_ms=poll_ms,
                                                   refresh_s=refresh_s,
                                                   client_id="ioc-api-alerts")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, view: AlertView) -> None:
        """Start the consumer thread."""
        self._thread = threading.Thread(target=self._run, args=(view,), daemon=True,
                                        name=f"alert-feed-{self._reader.topic}")
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and close the consumer."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self, view: AlertView) -> None:
        while not self._stop.is_set():
            try:
                # the reader resumes where the last session stopped, so no replay on retry
                for record in self._reader.records(follow=True, stop=self._stop):
                    if record is None:
                        view.mark_ready()
                    else:
                        view.apply_record(record)
            except (KafkaError, OSError) as exc:
                log.warning("alerts feed from %s failed, retrying: %s", self._reader.topic, exc)
                self._stop.wait(2.0)
            except Exception:  # a bug must not silently end the feed: log it and go on
                log.exception("alerts feed crashed; restarting")
                self._stop.wait(2.0)
