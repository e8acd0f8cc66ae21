"""A fake of the part of kafka-python's KafkaConsumer that the topic readers use."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from kafka import TopicPartition

__all__ = ["Entry", "FakeConsumer", "Msg"]


class Entry(NamedTuple):
    """One record as the fake's log holds it (alerts_topic.Record fits too)."""

    key: bytes | None
    value: bytes | None


@dataclass(frozen=True)
class Msg:
    """One record as the fake's poll hands it out (a ConsumerRecord's fields)."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: int = 0
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass
class FakeConsumer:
    """Offsets are list indexes; at most `batch` records of each partition per poll."""

    log: dict[int, list[Any]] | None  # entries with .key and .value; None: no such topic
    batch: int = 1_000_000
    on_poll: Callable[[FakeConsumer], None] = lambda c: None
    pos: dict[TopicPartition, int] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    polls: int = 0
    closed: bool = False

    def partitions_for_topic(self, topic: str) -> set[int] | None:
        return None if self.log is None else set(self.log)

    def assign(self, parts: list[TopicPartition]) -> None:
        self.pos = {p: -1 for p in parts}  # -1: no position until a seek

    def seek(self, part: TopicPartition, offset: int) -> None:
        self.pos[part] = offset

    def seek_to_beginning(self, *parts: TopicPartition) -> None:
        for part in parts:
            self.pos[part] = 0

    def end_offsets(self, parts: list[TopicPartition]) -> dict[TopicPartition, int]:
        assert self.log is not None
        return {p: len(self.log[p.partition]) for p in parts}

    def position(self, part: TopicPartition) -> int:
        assert self.pos[part] >= 0, "position asked before a seek"
        return self.pos[part]

    def poll(self, timeout_ms: int) -> dict[TopicPartition, list[Msg]]:
        self.polls += 1
        assert self.polls <= 1000, "still polling: the read does not end"
        self.on_poll(self)
        assert self.log is not None
        out = {}
        for part, at in self.pos.items():
            entries = self.log[part.partition][at:at + self.batch]
            if entries:
                out[part] = [Msg(part.partition, at + i, e.key, e.value)
                             for i, e in enumerate(entries)]
                self.pos[part] = at + len(entries)
        if not out:
            time.sleep(timeout_ms / 1000)  # a real poll with nothing to hand out blocks
        return out

    def close(self) -> None:
        self.closed = True
