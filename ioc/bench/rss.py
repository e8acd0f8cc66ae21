"""Resident memory and CPU time of running processes, sampled on an interval, summarised
per process."""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ioc.bench.periodic import Periodic

__all__ = ["PidSource", "RssSampler", "RssSummary", "format_table", "read_cpu_s", "read_rss_kib",
           "summarise"]

_TICKS = os.sysconf("SC_CLK_TCK")


def read_rss_kib(pid: int) -> int | None:
    """VmRSS of `pid` in KiB from /proc, or None when the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def read_cpu_s(pid: int, *, children: bool = False) -> float | None:
    """User + system CPU seconds `pid` has used (with `children`: also its waited-for
    children's), from /proc, or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        # fields after the command name, which may hold spaces: utime, stime are 14th, 15th,
        # cutime, cstime the 16th, 17th
        fields = stat[stat.rindex(")") + 2:].split()
        return sum(int(f) for f in fields[11:15 if children else 13]) / _TICKS
    except (OSError, ValueError, IndexError):
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
    cpu_s: float = 0.0  # CPU time used between its first and last sample


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


def format_table(rows: list[RssSummary], readings: int = 0) -> str:
    """The RSS and CPU table the soak prints; with `readings`, CPU-s per 10k of them too."""
    head = (f"{'process':<12} {'samples':>7} {'min MiB':>9} {'median':>9} {'max':>9} "
            f"{'last':>9} {'slope MiB/10min':>16} {'CPU-s':>8} {'CPU-s/10k':>10}")
    lines = [head, "-" * len(head)]
    lines += [f"{r.name:<12} {r.samples:>7} {r.min_mib:>9.1f} {r.median_mib:>9.1f} "
              f"{r.max_mib:>9.1f} {r.last_mib:>9.1f} {r.slope_mib_per_10min:>+16.2f} "
              f"{r.cpu_s:>8.1f} {_per_10k(r.cpu_s, readings):>10}" for r in rows]
    return "\n".join(lines)


def _per_10k(cpu_s: float, readings: int) -> str:
    return f"{cpu_s / readings * 10_000:.3f}" if readings else "-"


# a process's pid, or a group's (a parent and its `--processes N` members), or None if gone
PidSource = Callable[[], int | Sequence[int] | None]


def _listed(found: int | Sequence[int] | None) -> list[int]:
    return [] if found is None else [found] if isinstance(found, int) else list(found)


class RssSampler(Periodic):
    """Samples the RSS and CPU time of named processes (or groups of processes: the sum of
    their members) every `every_s` seconds in a thread."""

    def __init__(self, pids: Mapping[str, PidSource], every_s: float) -> None:
        super().__init__("rss-sampler", every_s)
        self._pids = dict(pids)
        self.samples: dict[str, list[tuple[float, int]]] = {name: [] for name in pids}
        # per process name, per pid (a restarted process counts on): first and last CPU-s
        self.cpu: dict[str, dict[int, tuple[float, float]]] = {name: {} for name in pids}
        self._lock = threading.Lock()  # rebase() runs on the caller's thread

    def poll(self) -> None:
        """Sample every process once."""
        now = time.monotonic()
        with self._lock:
            for name, pid_of in self._pids.items():
                self._sample(name, _listed(pid_of()), now)

    def rebase(self) -> None:
        """Count CPU time from now on (the work of a warm-up is left out of the table)."""
        with self._lock:
            for name, pid_of in self._pids.items():
                self.cpu[name] = {pid: (cpu, cpu) for pid in _listed(pid_of())
                                  if (cpu := read_cpu_s(pid)) is not None}

    def _sample(self, name: str, pids: list[int], now: float) -> None:
        """One sample of a process, or of a group (its RSS summed, its CPU per pid)."""
        sizes = [kib for kib in map(read_rss_kib, pids) if kib is not None]
        if sizes:
            self.samples[name].append((now, sum(sizes)))
        for pid in pids:
            cpu = read_cpu_s(pid)
            if cpu is not None:
                first = self.cpu[name].get(pid, (cpu, cpu))[0]
                self.cpu[name][pid] = (first, cpu)

    def stop(self) -> list[RssSummary]:
        """Stop sampling; one summary per process that was seen at least once."""
        self.halt(10)
        return [replace(summarise(name, s), cpu_s=sum(last - first for first, last in
                                                      self.cpu[name].values()))
                for name, s in self.samples.items() if s]
