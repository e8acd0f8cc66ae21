"""Where the readings agent's batches spend their time, and a log line for the slowest.

An alert waits for everything its batch waits for: its records' time in Kafka and in Faust's
queue, the worker's turn (another batch's checkpoint, or the tick), the rules, the
checkpoint write and the alert's own send. The agent notes each stage; once a window of
`every_s` has passed, the slowest batch in it is logged, stage by stage, if it took over
`slow_s`, so that a tail in `ioc bench soak` or in production can be matched to its cause.
Pure: the agent passes the times in.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BatchTiming", "SlowBatches"]


@dataclass(frozen=True, slots=True)
class BatchTiming:
    """One batch's stages, in seconds."""

    readings: int
    age_s: float  # its oldest record's age (Kafka timestamp) when the agent took the batch
    turn_s: float  # waiting for the worker's turn
    rules_s: float
    checkpoint_s: float = 0.0  # the commit less its alert sends; 0 while the batch is held
    alerts_s: float = 0.0  # sending the alerts, after their checkpoint
    alerts: int = 0

    @property
    def inside_s(self) -> float:
        """From the agent taking the batch to its alerts out (what the worker adds)."""
        return self.turn_s + self.rules_s + self.checkpoint_s + self.alerts_s

    @property
    def total_s(self) -> float:
        """From its oldest record's Kafka timestamp to its alerts out."""
        return self.age_s + self.inside_s

    def describe(self) -> str:
        """The stages as one log phrase."""
        ms = [round(v * 1000, 1) for v in (self.inside_s, self.age_s, self.turn_s,
                                          self.rules_s, self.checkpoint_s, self.alerts_s)]
        return (f"{ms[0]} ms for {self.readings} reading(s) and {self.alerts} alert(s): oldest "
                f"record {ms[1]} ms old when taken, waited {ms[2]} ms for the turn, rules "
                f"{ms[3]} ms, checkpoint {ms[4]} ms, alert sends {ms[5]} ms")


class SlowBatches:
    """The slowest batch of each window, and how many were over `slow_s`."""

    def __init__(self, every_s: float = 10.0, slow_s: float = 0.1) -> None:
        self.every_s, self.slow_s = every_s, slow_s
        self._start: float | None = None
        self._worst: BatchTiming | None = None
        self._batches = self._slow = 0

    def note(self, timing: BatchTiming, now: float) -> str | None:
        """Count a batch finished at `now` (monotonic s); a line to log when its window
        closes with a batch over `slow_s` in it, else None."""
        if self._start is None:
            self._start = now
        self._batches += 1
        if timing.total_s > self.slow_s:
            self._slow += 1
            if self._worst is None or timing.total_s > self._worst.total_s:
                self._worst = timing
        if now - self._start < self.every_s:
            return None
        line = None
        if self._worst is not None:
            line = (f"{self._slow} of {self._batches} batches in {now - self._start:.0f} s "
                    f"over {self.slow_s * 1000:.0f} ms; the slowest: {self._worst.describe()}")
        self._start, self._worst, self._batches, self._slow = now, None, 0, 0
        return line
