"""Which machine a figure came from: the CPU and a fixed calibration loop.

Sessions run on machines of one kind whose speed still differs 2-2.5× per core; a rate means
little without it. The calibration is a plain CPython loop, the kind of work the pipeline's
Python side does, timed the best of three (the least disturbed).

A latency tail depends as much on how contended the machine was while it was measured: the
share of its CPU time that was busy, idle or stolen by the hypervisor (/proc/stat) and how
often a runnable task found no CPU free (pressure stall information, /proc/pressure/cpu).
`cpu_times` notes both at one moment; `cpu_share` gives the shares between two notes.

On this project's 2-core KVM guests the hypervisor's share largely decided the 2,000/s
alert tail (same configuration and load; figures in docs/architecture.md): from 5 % of the
CPU time on, the p99 was over 100 ms in nearly every run. `CpuShare.host_disturbed` marks
such runs.
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["STEAL_DISTURBED_PCT", "CpuShare", "CpuTimes", "Machine", "calibration_ms",
           "cpu_share", "cpu_times", "this_machine"]

_LOOP = 1_000_000
# from this share of stolen CPU time on, a run's latency measures the host as much as us
STEAL_DISTURBED_PCT = 5.0


def calibration_ms(rounds: int = 3) -> float:
    """Milliseconds for 1 M integer additions in a Python loop, the best of `rounds`."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        total = 0
        for i in range(_LOOP):
            total += i
        best = min(best, time.perf_counter() - start)
    return round(best * 1000, 1)


def _cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    try:
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


@dataclass(frozen=True, slots=True)
class Machine:
    """The CPU a bench ran on and its calibration figure."""

    cpu: str
    cores: int
    calibration_ms: float

    def line(self) -> str:
        """One human-readable line."""
        return (f"machine: {self.cores} × {self.cpu}; calibration {self.calibration_ms:g} ms "
                "per 1 M Python additions (best of 3; lower is faster)")


def this_machine() -> Machine:
    """This machine, calibrated now (about a second)."""
    return Machine(_cpu_model(), os.cpu_count() or 1, calibration_ms())


@dataclass(frozen=True, slots=True)
class CpuTimes:
    """The machine's CPU time by kind (/proc/stat's first line: user, nice, system, idle,
    iowait, irq, softirq, steal, in ticks) and the microseconds some task waited for a CPU
    (/proc/pressure/cpu's "some" total; None without PSI), at one moment."""

    ticks: tuple[int, ...]
    waited_us: int | None
    at: float  # time.monotonic()


@dataclass(frozen=True, slots=True)
class CpuShare:
    """How the machine's CPU time went between two notes, in per cent."""

    busy_pct: float  # user, nice, system, irq, softirq
    idle_pct: float  # idle and iowait
    steal_pct: float  # taken by the hypervisor for other guests
    waiting_pct: float | None  # of wall time, some runnable task found no CPU free

    @property
    def host_disturbed(self) -> bool:
        """Whether the hypervisor took enough CPU time to dominate a latency tail."""
        return self.steal_pct >= STEAL_DISTURBED_PCT

    def line(self) -> str:
        """One human-readable phrase."""
        waiting = ("" if self.waiting_pct is None else
                   f"; a runnable task waited for a CPU {self.waiting_pct:g} % of the time")
        return (f"CPU busy {self.busy_pct:g} %, idle {self.idle_pct:g} %, stolen by the "
                f"hypervisor {self.steal_pct:g} %{waiting}")


def _ticks(stat: str) -> tuple[int, ...]:
    fields = stat.splitlines()[0].split()
    if fields[0] != "cpu":
        raise ValueError("not /proc/stat")
    return tuple(int(v) for v in (fields[1:9] + ["0"] * 8)[:8])


def _waited_us(pressure: str) -> int | None:
    for line in pressure.splitlines():
        if line.startswith("some "):
            return int(dict(kv.split("=") for kv in line.split()[1:])["total"])
    return None


def cpu_times(proc: Path = Path("/proc")) -> CpuTimes | None:
    """The machine's CPU times now; None where /proc/stat cannot be read (not Linux)."""
    try:
        ticks = _ticks((proc / "stat").read_text())
    except (OSError, ValueError, IndexError):
        return None
    try:
        waited = _waited_us((proc / "pressure" / "cpu").read_text())
    except (OSError, ValueError, KeyError):
        waited = None
    return CpuTimes(ticks, waited, time.monotonic())


def cpu_share(before: CpuTimes, after: CpuTimes) -> CpuShare | None:
    """The shares between two notes; None if no CPU time passed between them."""
    d = [b - a for a, b in zip(before.ticks, after.ticks, strict=True)]
    total = sum(d)
    if total <= 0:
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = d
    pct = lambda v: round(100 * v / total, 1)  # noqa: E731
    waiting = None
    wall_us = (after.at - before.at) * 1e6
    if before.waited_us is not None and after.waited_us is not None and wall_us > 0:
        waiting = round(100 * (after.waited_us - before.waited_us) / wall_us, 1)
    return CpuShare(pct(user + nice + system + irq + softirq), pct(idle + iowait), pct(steal),
                    waiting)
