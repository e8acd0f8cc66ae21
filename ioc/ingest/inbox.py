"""The hand-over from paho's network thread to the bridge worker, bounded.

QoS 1 messages are never dropped here: the broker sends at most `receive_maximum` of them
before the bridge acks (MQTT v5 flow control, which the bridge asks for), and the bridge
acks only what Kafka confirmed, so a slow Kafka stops the broker rather than filling
memory. QoS 0 messages have no ack and no flow control: beyond a count and a byte cap they
are dropped and counted.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

__all__ = ["Inbox"]


class Inbox:
    """FIFO of received messages; QoS 0 ones capped by count and bytes."""

    def __init__(self, qos0_max_messages: int, qos0_max_bytes: int) -> None:
        self._max_n, self._max_bytes = qos0_max_messages, qos0_max_bytes
        self._items: deque[tuple[Any, int, int]] = deque()
        self._cond = threading.Condition()
        self._qos0 = self._qos0_bytes = self._bytes = 0
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def bytes(self) -> int:
        """Payload and topic bytes waiting."""
        return self._bytes

    def put(self, item: Any, size: int, qos: int) -> bool:
        """Queue a message of `size` bytes; False when a QoS 0 one was dropped (full)."""
        with self._cond:
            if qos == 0:
                if self._qos0 >= self._max_n or self._qos0_bytes + size > self._max_bytes:
                    self.dropped += 1
                    return False
                self._qos0 += 1
                self._qos0_bytes += size
            self._bytes += size
            self._items.append((item, size, qos))
            self._cond.notify()
            return True

    def get_many(self, limit: int = 256) -> list[Any] | None:
        """The oldest items, at least one and at most `limit`, waiting for one (one lock per
        burst, not per message); None once `close` was called and all were read."""
        with self._cond:
            items = self._items
            while not items:
                self._cond.wait()
            out: list[Any] = []
            while items and len(out) < limit:
                item, size, qos = items[0]
                if item is None:
                    break  # the close marker stays: the next call returns None
                items.popleft()
                self._bytes -= size
                if qos == 0:
                    self._qos0 -= 1
                    self._qos0_bytes -= size
                out.append(item)
            return out or None

    def close(self) -> None:
        """Let `get_many` return None after the items queued so far (never dropped)."""
        with self._cond:
            self._items.append((None, 0, 1))
            self._cond.notify()
