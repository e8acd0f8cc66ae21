"""Timing a consumer that drains an MQTT backlog into Kafka (the bridge, or Telegraf): rate,
CPU per 10,000 messages, and the counts (missing, duplicated) that make the figure valid."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from ioc.bench.loadgen import Collected, Collector
from ioc.bench.rss import read_cpu_s
from ioc.bench.trials import PROBLEMS
from ioc.core.errors import ServiceError

__all__ = ["DrainProbe", "count_problems", "cpu_of", "measure_drain"]

# One message's identity: (device id, seq).
Key = tuple[str, int]
Identify = Callable[[Collected], Key | None]


def cpu_of(pids: Iterable[int]) -> float | None:
    """The processes' CPU seconds (with their waited-for children's) summed; None if one of
    them is gone."""
    values = [read_cpu_s(p, children=True) for p in pids]
    return None if any(v is None for v in values) else sum(v or 0.0 for v in values)


def count_problems(keys: Sequence[Key | None], expected: set[Key]) -> tuple[int, int, list[str]]:
    """(missing, duplicates, problems) of the keys seen against those published."""
    seen = Counter(k for k in keys if k is not None)
    missing = len(expected - seen.keys())
    duplicates = sum(n - 1 for n in seen.values())
    stray = len(seen.keys() - expected)
    problems = [f"{missing} of {len(expected)} messages missing"] if missing else []
    if duplicates:
        problems.append(f"{duplicates} duplicate records")
    if stray:
        problems.append(f"{stray} records that were never published")
    return missing, duplicates, problems


class DrainProbe:
    """Watches one topic of a Collector from record `base` on; records that `identify`
    does not recognise (start-up probes) are not counted."""

    def __init__(self, collector: Collector, topic: str, identify: Identify) -> None:
        self.collector, self.topic, self.identify = collector, topic, identify
        self.base = self._read = collector.count(topic)
        self._counted = 0

    def new(self) -> list[Collected]:
        """Records that arrived since the probe was made."""
        return self.collector.records[self.topic][self.base:]

    def counted(self) -> int:
        """Recognised records since the probe was made."""
        records = self.collector.records[self.topic]
        end = len(records)
        self._counted += sum(1 for r in records[self._read:end] if self.identify(r) is not None)
        self._read = end
        return self._counted


def measure_drain(probe: DrainProbe, expected: set[Key],
                  start: Callable[[], AbstractContextManager[Sequence[int]]],
                  timeout_s: float, label: str) -> dict[str, Any]:
    """Start the drainer (its context yields its pids) over a backlog already queued for it.

    The rate runs from the first record seen in Kafka to the last (start-up excluded, the
    same for every drainer); CPU is the drainer's over that span.
    """
    with start() as pids:
        deadline = time.monotonic() + timeout_s
        while not probe.counted():
            if time.monotonic() > deadline:
                raise ServiceError(f"{label}: nothing arrived in Kafka in {timeout_s:.0f}s")
            time.sleep(0.005)
        first_at, first_n, cpu0 = time.perf_counter(), probe.counted(), cpu_of(pids)
        while probe.counted() < len(expected) and time.monotonic() < deadline:
            time.sleep(0.02)
        cpu1, last_at = cpu_of(pids), probe.collector.last_at
    keys = [k for k in map(probe.identify, probe.new()) if k is not None]
    missing, duplicates, problems = count_problems(keys, expected)
    after_first = len(keys) - first_n
    span = last_at - first_at
    cpu = None if cpu0 is None or cpu1 is None or after_first <= 0 else \
        round((cpu1 - cpu0) / after_first * 10_000, 3)
    return {f"{label}_msgs_per_s": round(after_first / span) if span > 0 else 0,
            f"{label}_cpu_s_per_10k": cpu, f"{label}_missing": missing,
            f"{label}_duplicates": duplicates,
            PROBLEMS: [f"{label}: {p}" for p in problems]}
