"""The current alerts in memory, filtered queries, and change subscriptions for asyncio."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ioc.core.alerts_topic import fold_alerts
from ioc.core.schemas import Alert

__all__ = ["AlertFilter", "AlertView", "Subscription", "select_alerts"]

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
        # a subscriber that falls this far behind is told to reload rather than miss changes
        self.overflowed = False

    def push(self, alert: Alert) -> None:
        """Hand one change to the subscriber's loop (thread-safe)."""
        with contextlib.suppress(RuntimeError):  # a closed loop: the subscriber is gone
            self._loop.call_soon_threadsafe(self._put, alert)

    def _put(self, alert: Alert) -> None:
        try:
            self.queue.put_nowait(alert)
        except asyncio.QueueFull:
            self.overflowed = True

    async def get(self) -> Alert:
        """The next change."""
        return await self.queue.get()


class AlertView:
    """Latest version of every alert by id; the feed thread applies, routes read."""

    def __init__(self, alerts: Sequence[Alert] = (), ready: bool = False) -> None:
        self._lock = threading.Lock()
        self._alerts: dict[str, Alert] = {}
        self._subs: set[Subscription] = set()
        self._ready = threading.Event()
        for alert in alerts:
            fold_alerts(self._alerts, alert)
        if ready:
            self._ready.set()

    @property
    def ready(self) -> bool:
        """Whether the view has caught up with the alerts topic at least once."""
        return self._ready.is_set()

    def mark_ready(self) -> None:
        """Called by the feed once it has read to the end of the topic."""
        if not self._ready.is_set():
            log.info("alert view caught up: %d alerts", len(self._alerts))
        self._ready.set()

    def apply(self, alert: Alert) -> bool:
        """Fold one alert state in; subscribers hear of it if it is newer."""
        with self._lock:
            changed = fold_alerts(self._alerts, alert)
            subs = list(self._subs) if changed else []
        for sub in subs:
            sub.push(alert)
        return changed

    def get(self, alert_id: str) -> Alert | None:
        """The alert's current state, or None."""
        with self._lock:
            return self._alerts.get(alert_id)

    def snapshot(self) -> list[Alert]:
        """Every alert's current state."""
        with self._lock:
            return list(self._alerts.values())

    @property
    def subscriber_count(self) -> int:
        """How many live subscriptions there are."""
        with self._lock:
            return len(self._subs)

    def __len__(self) -> int:
        with self._lock:
            return len(self._alerts)

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
