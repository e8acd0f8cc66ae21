"""Detector micro-benchmark: readings/s of one Detector with all rules on, per-reading latency."""

from __future__ import annotations

import random
import time
from datetime import timedelta
from typing import Any

from ioc.bench.trials import PROBLEMS
from ioc.core.registry import WARDS, Device, Registry
from ioc.core.schemas import Reading
from ioc.processors.detector import Detector
from ioc.testing.factories import T0, drain, lamp, mixed_fleet, traffic

__all__ = ["run_detector_bench"]


def _reading(dev: Device, t: float, rng: random.Random) -> Reading:
    when = T0 + timedelta(seconds=t)
    if dev.domain == "drainage":
        return drain(dev, when, round(0.3 + 0.5 * rng.random(), 3))  # crosses warn_m 0.6 m
    if dev.domain == "traffic":
        return traffic(dev, when, 5 + 45 * rng.random(), rng.random())
    return lamp(dev, when, rng.choice(("on", "off", "on")), 160 * rng.random())


def run_detector_bench(n: int = 100_000, per_ward: int = 25,
                       seed: int = 1) -> dict[str, Any]:
    """Feed `n` pre-parsed readings (all three domains) through one Detector, with ticks."""
    rng = random.Random(seed)
    devices = mixed_fleet(WARDS, per_ward)
    det = Detector(Registry(devices))
    readings = [_reading(devices[i % len(devices)], i * 60.0 / len(devices) * 1.0, rng)
                for i in range(n)]
    lat = [0] * n
    alerts = 0
    start = time.perf_counter()
    for i, r in enumerate(readings):
        t0 = time.perf_counter_ns()
        alerts += len(det.process(r))
        if i % 1000 == 999:  # a tick every 1,000 readings, as the worker's timer would
            alerts += len(det.tick(r.observed_at.timestamp()))
        lat[i] = time.perf_counter_ns() - t0
    elapsed = time.perf_counter() - start
    lat.sort()
    # the feed crosses warn_m on purpose: a Detector that raised nothing did not run its rules
    problems = [] if alerts else ["no alert changes from a feed that crosses thresholds"]
    return {PROBLEMS: problems, "readings": n, "devices": len(devices),
            "seconds": round(elapsed, 3),
            "readings_per_s": round(n / elapsed, 1), "alert_changes": alerts,
            "p50_us": lat[n // 2] / 1000, "p99_us": lat[int(n * 0.99)] / 1000,
            "max_us": lat[-1] / 1000}
