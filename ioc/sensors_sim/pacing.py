"""Pacing a message stream in real time: speed factor, rate cap and periodic progress."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = ["PaceStats", "pump"]

_MIN_SLEEP_S = 0.002  # below this, sleeping costs more than it saves; run ahead a little


@dataclass(frozen=True, slots=True)
class PaceStats:
    """How a pump run went: messages handed over and wall-clock seconds taken."""

    messages: int
    elapsed_s: float

    @property
    def rate(self) -> float:
        """Messages per second."""
        return self.messages / self.elapsed_s if self.elapsed_s > 0 else 0.0


def pump(messages: Iterable[tuple[float, str, bytes]], sink: Callable[[str, bytes], None],
         speed: float | None = None, rate: float | None = None,
         progress: Callable[[int, float], None] | None = None, progress_every_s: float = 1.0,
         clock: Callable[[], float] = time.monotonic,
         sleep: Callable[[float], None] = time.sleep) -> PaceStats:
    """Hand (at, topic, payload) to `sink`, at `at / speed` real seconds (None: at once),
    never faster than `rate` per second; call `progress(count, elapsed)` now and then."""
    began = clock()
    next_progress = began + progress_every_s
    interval = 1.0 / rate if rate else 0.0
    not_before = began
    count = 0
    for at, topic, payload in messages:
        target = began + at / speed if speed else began
        target = max(target, not_before)
        now = clock()
        if target - now > _MIN_SLEEP_S:
            sleep(target - now)
            now = clock()
        sink(topic, payload)
        count += 1
        not_before = target + interval
        if progress is not None and now >= next_progress:
            progress(count, now - began)
            next_progress = now + progress_every_s
    elapsed = clock() - began
    if progress is not None:
        progress(count, elapsed)
    return PaceStats(count, elapsed)
