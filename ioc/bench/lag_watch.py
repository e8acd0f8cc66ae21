"""Consumer-group lag read on a thread of its own, so a load generator never waits for it.

Reading a group's lag takes a Kafka round trip per partition, and the first read a SASL
login. Done inline, every progress line of the soak stalled its publishing loop for hundreds
of milliseconds, which then caught up in a burst: the alerts of that burst were measured
late, as a fault of the pipeline rather than of the load.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from ioc.bench.periodic import Periodic
from ioc.core.kafka_auth import KafkaAccess
from ioc.testing.kafka_groups import GroupLag

__all__ = ["GroupLags", "LagWatch"]

log = logging.getLogger(__name__)

Lags = tuple[int | None, ...]


class GroupLags:
    """The lag of several consumer groups, each read through one consumer kept open."""

    def __init__(self, kafka: KafkaAccess, groups: Sequence[tuple[str, Sequence[str]]]) -> None:
        self._kafka, self._groups = kafka, list(groups)
        self._open: list[GroupLag] | None = None
        self._lock = threading.Lock()  # kafka-python consumers are not thread-safe

    def read(self) -> Lags:
        """Records each group has not committed yet (None: its topics have no partitions)."""
        with self._lock:
            if self._open is None:
                self._open = [GroupLag(self._kafka, g, t) for g, t in self._groups]
            return tuple(lag.lag() for lag in self._open)

    def close(self) -> None:
        """Close the consumers."""
        with self._lock:
            for lag in self._open or ():
                lag.close()
            self._open = None


class LagWatch(Periodic):
    """Reads `lags` at start, then every `every_s` from `lead_s` before the first interval
    ends: a line printed every `every_s` shows a value at most `lead_s` old, read once.
    `latest` never blocks."""

    def __init__(self, lags: GroupLags, every_s: float, lead_s: float = 1.0) -> None:
        super().__init__("lag-watch", every_s, first_s=max(0.0, every_s - lead_s))
        self._lags = lags
        self._latest: Lags | None = None

    @property
    def latest(self) -> Lags | None:
        """The last lags read (None before the first read)."""
        return self._latest

    def stop(self) -> None:
        """Stop reading and wait for a read in progress."""
        self.halt()

    def poll(self) -> None:
        """Read the lags once."""
        try:
            self._latest = self._lags.read()
        except Exception:  # a progress line must not end the run
            log.warning("reading the consumer groups' lag failed", exc_info=True)
