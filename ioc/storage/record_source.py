"""What the storage sink needs from a Kafka consumer: a small interface, one adapter per client.

Partitions are plain `(topic, partition)` tuples and a poll hands back raw values grouped by
topic, so the sink's loop (hold, pause, rewind) is tested without a client and the adapter
(ioc.storage.rdkafka_source) keeps librdkafka's types to itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["Part", "Polled", "RecordSource"]

Part = tuple[str, int]  # (topic, partition)


@dataclass(slots=True)
class Polled:
    """One poll's records: values by topic, and each partition's first and next offset."""

    values: dict[str, list[bytes | None]] = field(default_factory=dict)
    first: dict[Part, int] = field(default_factory=dict)
    end: dict[Part, int] = field(default_factory=dict)  # the offset after the last record

    def __bool__(self) -> bool:
        return bool(self.end)


class RecordSource(Protocol):
    """A consumer-group member with explicit commits, pausing and seeking."""

    def subscribe(self, topics: list[str]) -> None:
        """Join the group for these topics."""

    def poll(self, timeout_s: float, max_records: int) -> Polled:
        """Up to `max_records` records from unpaused partitions (empty after `timeout_s`)."""

    def commit(self, offsets: Mapping[Part, int]) -> None:
        """Commit the offsets synchronously; raises on failure."""

    def assignment(self) -> set[Part]:
        """The partitions this member owns now."""

    def pause(self, parts: Iterable[Part]) -> None:
        """Stop fetching these partitions."""

    def resume_all(self) -> None:
        """Fetch every paused partition again."""

    def seek(self, part: Part, offset: int) -> None:
        """Read `part` from `offset` on."""

    def rewind(self) -> None:
        """Read every owned partition again from its committed offset (or its beginning)."""

    def away(self, exc: BaseException) -> bool:
        """Whether `exc` says Kafka is unreachable or not ready (waiting helps)."""

    def close(self) -> None:
        """Leave the group; uncommitted records go to the next owner."""
