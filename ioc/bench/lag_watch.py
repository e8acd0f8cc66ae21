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


class LagWatch:
    """Reads `lags` every `interval_s` on a daemon thread; `latest` never blocks."""

    def __init__(self, lags: GroupLags, interval_s: float) -> None:
        self._lags, self._interval_s = lags, interval_s
        self._latest: Lags | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lag-watch", daemon=True)

    @property
    def latest(self) -> Lags | None:
        """The last lags read (None before the first read)."""
        return self._latest

    def start(self) -> None:
        """Start reading."""
        self._thread.start()

    def stop(self) -> None:
        """Stop reading and wait for the thread."""
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            try:
                self._latest = self._lags.read()
            except Exception:  # a progress line must not end the run
                log.warning("reading the consumer groups' lag failed", exc_info=True)
            if self._stop.wait(self._interval_s):
                return
