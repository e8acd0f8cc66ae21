"""Which machine a figure came from: the CPU and a fixed calibration loop.

Sessions run on machines of one kind whose speed still differs 2-2.5× per core; a rate means
little without it. The calibration is a plain CPython loop, the kind of work the pipeline's
Python side does, timed the best of three (the least disturbed).
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Machine", "calibration_ms", "this_machine"]

_LOOP = 1_000_000


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
