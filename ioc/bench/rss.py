"""Resident memory of running processes, sampled on an interval, summarised per process."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["RssSampler", "RssSummary", "format_table", "read_rss_kib", "summarise"]


def read_rss_kib(pid: int) -> int | None:
    """VmRSS of `pid` in KiB from /proc, or None when the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


@dataclass(frozen=True, slots=True)
class RssSummary:
    """One process's RSS over the run (MiB) and its trend after the warm-up."""

    name: str
    samples: int
    min_mib: float
    median_mib: float
    max_mib: float
    slope_mib_per_10min: float  # least squares over the samples after the warm-up
    last_mib: float


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MiB) points, in MiB per second (0 for < 2 points)."""
    if len(points) < 2:
        return 0.0
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in points) / var if var else 0.0


def summarise(name: str, samples: list[tuple[float, int]], warm_up: float = 0.2) -> RssSummary:
    """Min/median/max and the slope after the first `warm_up` share of the run."""
    mib = [(t, kib / 1024) for t, kib in samples]
    values = [v for _, v in mib] or [0.0]
    start = mib[0][0] if mib else 0.0
    end = mib[-1][0] if mib else 0.0
    steady = [p for p in mib if p[0] >= start + warm_up * (end - start)]
    return RssSummary(name, len(mib), min(values), statistics.median(values), max(values),
                      _slope(steady) * 600, values[-1])


def format_table(rows: list[RssSummary]) -> str:
    """The RSS table the soak prints."""
    head = (f"{'process':<12} {'samples':>7} {'min MiB':>9} {'median':>9} {'max':>9} "
            f"{'last':>9} {'slope MiB/10min':>16}")
    lines = [head, "-" * len(head)]
    lines += [f"{r.name:<12} {r.samples:>7} {r.min_mib:>9.1f} {r.median_mib:>9.1f} "
              f"{r.max_mib:>9.1f} {r.last_mib:>9.1f} {r.slope_mib_per_10min:>+16.2f}"
              for r in rows]
    return "\n".join(lines)


class RssSampler:
    """Samples the RSS of named processes every `every_s` seconds in a thread."""

    def __init__(self, pids: Mapping[str, Callable[[], int | None]], every_s: float) -> None:
        self._pids, self._every = dict(pids), every_s
        self.samples: dict[str, list[tuple[float, int]]] = {name: [] for name in pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def start(self) -> None:
        """Take a first sample now and keep sampling."""
        self._thread.start()

    def _run(self) -> None:
        while True:
            now = time.monotonic()
            for name, pid_of in self._pids.items():
                pid = pid_of()
                kib = read_rss_kib(pid) if pid is not None else None
                if kib is not None:
                    self.samples[name].append((now, kib))
            if self._stop.wait(self._every):
                return

    def stop(self) -> list[RssSummary]:
        """Stop sampling; one summary per process that was seen at least once."""
        self._stop.set()
        self._thread.join(10)
        return [summarise(name, s) for name, s in self.samples.items() if s]
