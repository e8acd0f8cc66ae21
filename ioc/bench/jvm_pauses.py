"""A JVM's stop-the-world pauses from its unified GC log (`-Xlog:gc` with the `time`
decorator, as `ioc services` starts Kafka): `ioc bench soak` reports the broker's pauses
while publishing beside the alert latency, since every produce and fetch in flight waits
out a pause."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

__all__ = ["Pauses", "pauses_between", "read_pauses"]

# [2026-12-03T18:48:46.966+0000][0.502s][info] GC(0) Pause Young (Normal) (...) 9.148ms
_PAUSE = re.compile(r"^\[(?P<at>\d{4}-\d\d-\d\dT[^\]]+)\].*\bPause\b.*?(?P<ms>\d+(?:\.\d+)?)ms\s*$")


@dataclass(frozen=True, slots=True)
class Pauses:
    """The pauses logged in a time window."""

    count: int
    total_ms: float
    max_ms: float

    def line(self) -> str:
        """One human-readable phrase."""
        if not self.count:
            return "no GC pause logged"
        return (f"{self.count} GC pause(s), {self.total_ms:.0f} ms in all, the longest "
                f"{self.max_ms:.1f} ms")


def _at(stamp: str) -> float | None:
    try:
        return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
    except ValueError:
        return None


def pauses_between(lines: Iterable[str], start: float, end: float) -> Pauses:
    """The pauses among GC log lines written between `start` and `end` (epoch seconds; the
    JVM writes a pause's line as the pause ends)."""
    found: list[float] = []
    for line in lines:
        match = _PAUSE.match(line)
        if match is None:
            continue
        at = _at(match["at"])
        if at is not None and start <= at <= end:
            found.append(float(match["ms"]))
    return Pauses(len(found), round(sum(found, 0.0), 1), max(found, default=0.0))


def read_pauses(log: Path, start: float, end: float) -> Pauses | None:
    """The pauses `log` and its rotated files (`<log>.0`, `.1`, …) hold for the window;
    None if there is no such log (a broker not started by `ioc services`)."""
    files = [p for p in (log, *sorted(log.parent.glob(log.name + ".*"))) if p.is_file()]
    if not files:
        return None

    def lines() -> Iterable[str]:
        for path in files:
            with path.open(encoding="utf-8", errors="replace") as handle:
                yield from handle

    return pauses_between(lines(), start, end)
