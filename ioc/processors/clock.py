"""The worker's tick clock: event time from the readings, advanced by wall time in between."""

from __future__ import annotations

__all__ = ["TickClock"]


class TickClock:
    """Event-time clock for timer ticks.

    Ticking with the wall clock would make every device of a replayed (older) feed look
    silent and close ward windows early; ticking only with reading times would never notice
    a city that went quiet. So the clock follows the newest reading and, while none arrive,
    runs on with the wall clock from there.
    """

    def __init__(self) -> None:
        self._event: float | None = None
        self._wall = 0.0

    def now(self, event_clock: float | None, wall: float) -> float | None:
        """Tick time for the detector's newest event time and a monotonic wall reading."""
        if event_clock is None:
            return None
        if self._event is None:
            self._event, self._wall = event_clock, wall
            return event_clock
        estimate = self._event + (wall - self._wall)
        if event_clock > estimate:  # readings run ahead (fast replay): follow them
            self._event, self._wall = event_clock, wall
            return event_clock
        return estimate
