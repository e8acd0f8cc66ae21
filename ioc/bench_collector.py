"""A background Kafka consumer that keeps each record's value and broker timestamp."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from kafka import KafkaConsumer

__all__ = ["Stamped", "StampedCollector"]


@dataclass(frozen=True, slots=True)
class Stamped:
    """One consumed record: its value and Kafka timestamp (ms)."""

    value: bytes
    timestamp_ms: int


class StampedCollector:
    """Consumes topics from the beginning in a thread; callers poll its counts."""

    def __init__(self, bootstrap: str, topics: Sequence[str]) -> None:
        self._consumer = KafkaConsumer(*topics, bootstrap_servers=bootstrap,
                                       group_id=f"bench-collector-{uuid.uuid4().hex[:8]}",
                                       auto_offset_reset="earliest", enable_auto_commit=False,
                                       fetch_max_wait_ms=50, max_poll_records=5000)
        self.records: dict[str, list[Stamped]] = {t: [] for t in topics}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-collector", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for tp, recs in self._consumer.poll(timeout_ms=100).items():
                self.records[tp.topic].extend(Stamped(r.value, r.timestamp) for r in recs)

    def count(self, topic: str) -> int:
        """Records of one topic consumed so far."""
        return len(self.records[topic])

    def wait(self, topic: str, n: int, timeout: float) -> bool:
        """Poll until `n` records of `topic` arrived or `timeout` passed."""
        deadline = time.monotonic() + timeout
        while self.count(topic) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.count(topic) >= n

    def close(self) -> None:
        """Stop consuming."""
        self._stop.set()
        self._thread.join(10)
        self._consumer.close()
