"""In-order MQTT acknowledgement: a message is acked only once it and all before it are in Kafka."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["AckTracker", "Pending"]


class Pending:
    """One received message waiting for Kafka's confirmation."""

    __slots__ = ("done", "gen", "kind", "mid", "qos", "sent_at")

    def __init__(self, mid: int, qos: int, gen: int) -> None:
        self.mid = mid
        self.qos = qos
        self.gen = gen
        self.done = False
        self.sent_at = 0.0
        self.kind = "telemetry"


class AckTracker:
    """Keeps in-flight messages in receive order and acks the confirmed prefix.

    MQTT wants PUBACKs in receive order, and acking a later message before an earlier one
    is stored would lose the earlier one on a crash. Each connection is a generation: when
    the connection drops, the broker redelivers every unacked message, so entries of the
    old generation are forgotten and their late confirmations ack nothing.
    """

    def __init__(self, ack: Callable[[int, int], object]) -> None:
        self._ack = ack
        self._cond = threading.Condition()
        self._queue: deque[Pending] = deque()
        self._gen = 0
        self.acked = 0

    @property
    def generation(self) -> int:
        """The current connection generation."""
        return self._gen

    def __len__(self) -> int:
        return len(self._queue)

    def track(self, mid: int, qos: int, gen: int) -> Pending | None:
        """Register a received message; None when it belongs to an older connection."""
        with self._cond:
            if gen != self._gen:
                return None
            pending = Pending(mid, qos, gen)
            self._queue.append(pending)
            return pending

    def confirm(self, pending: Pending) -> int:
        """Mark a message stored; ack the contiguous confirmed prefix and return its length."""
        with self._cond:
            pending.done = True
            if pending.gen != self._gen:
                return 0
            queue, released = self._queue, 0
            # Acks are sent under the lock so two confirming threads cannot reorder them.
            while queue and queue[0].done:
                head = queue.popleft()
                self._ack(head.mid, head.qos)
                released += 1
            if released:
                self.acked += released
                if not queue:
                    self._cond.notify_all()
            return released

    def oldest_age(self) -> float:
        """Seconds the oldest unacked message has waited since it was sent (0 if none)."""
        queue = self._queue
        head = queue[0] if queue else None
        return time.perf_counter() - head.sent_at if head and head.sent_at else 0.0

    def new_generation(self) -> int:
        """Forget every unacked message (the broker will redeliver them); return how many."""
        with self._cond:
            dropped = len(self._queue)
            self._gen += 1
            self._queue = deque()
            self._cond.notify_all()
            return dropped

    def wait_empty(self, timeout: float) -> bool:
        """Block until nothing is in flight or `timeout` seconds passed; True if empty."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True
