"""What the pipeline kept up with while the soak published: the readings the worker and the
storage consumer committed between the end of the warm-up and the last publish, per second.

The soak's `end to end` rate (first publish → all stored and judged) counts the final drain
as time spent, so at a publish rate R it stays below R even when nothing queues (the last
readings still take their latency). This is the rate of the commits themselves: R when the
pipeline keeps up, less when a backlog grows. Both groups commit on a timer (the worker
every second), so either end may be late by up to one commit interval; over a one-minute
window that is within about 2 % either way. The offsets are read on a thread of their own,
so the publishing loop never waits for Kafka (as with `lag_watch`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass

from ioc.bench.machine import CpuTimes, cpu_times
from ioc.bench.rss import RssSampler
from ioc.core.kafka_auth import KafkaAccess
from ioc.testing.kafka_groups import GroupLag

__all__ = ["CommitMarks", "Window", "committed_reader"]

Read = Callable[[], tuple[int, ...]]


class CommitMarks:
    """Sums of committed offsets taken at marked moments, each read on a thread."""

    def __init__(self, read: Read, clock: Callable[[], float] = time.monotonic) -> None:
        self._read, self._clock = read, clock
        self._marks: list[tuple[float, tuple[int, ...]] | None] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()  # one read at a time: the consumers are not thread-safe

    def mark(self) -> None:
        """Read the committed offsets now, without waiting for the answer (reads run one
        after another, in the order they were marked)."""
        slot = len(self._marks)
        self._marks.append(None)
        previous = self._threads[-1] if self._threads else None

        def read() -> None:
            if previous is not None:
                previous.join()
            with self._lock:
                began = self._clock()
                with suppress(Exception):  # a failed read leaves no rate, never a wrong one
                    sums = self._read()
                    self._marks[slot] = ((began + self._clock()) / 2, sums)

        thread = threading.Thread(target=read, name="commit-marks", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _join(self, timeout_s: float) -> None:
        """Wait for the reads marked so far, `timeout_s` at most in all."""
        deadline = self._clock() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - self._clock()))

    def close(self, close_reader: Callable[[], None], timeout_s: float = 30.0) -> None:
        """Wait for the reads (at most `timeout_s`), then close the reader under the lock,
        so that no read is cut off half-way."""
        self._join(timeout_s)
        with self._lock:
            close_reader()

    def rates(self, timeout_s: float) -> tuple[float, ...] | None:
        """Committed readings per second of each group from the first mark to the last;
        None if either read failed or has not finished within `timeout_s`."""
        self._join(timeout_s)
        with self._lock:
            if len(self._marks) < 2 or self._marks[0] is None or self._marks[-1] is None:
                return None
            (t0, first), (t1, last) = self._marks[0], self._marks[-1]
        if t1 <= t0:
            return None
        return tuple(round((b - a) / (t1 - t0), 1) for a, b in zip(first, last, strict=True))


def committed_reader(kafka: KafkaAccess, groups: Sequence[str], topic: str,
                     ) -> tuple[Read, Callable[[], None]]:
    """A read of each group's committed offsets summed over `topic`, and its close."""
    lags = [GroupLag(kafka, group, [topic]) for group in groups]

    def read() -> tuple[int, ...]:
        return tuple(sum(lag.committed().values()) for lag in lags)

    def close() -> None:
        for lag in lags:
            lag.close()

    return read, close


@dataclass
class Window:
    """The measured part of the publishing: from the end of the warm-up."""

    cpu: CpuTimes | None = None
    wall: float = 0.0
    at: float = 0.0

    def open(self, sampler: RssSampler) -> None:
        """Start it now: CPU times, wall and monotonic clocks, the RSS sampler's base."""
        self.cpu, self.wall, self.at = cpu_times(), time.time(), time.monotonic()
        sampler.rebase()
