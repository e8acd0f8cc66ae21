"""How long a soak warms the pipeline up before it measures: longer while the Kafka broker
is fresh from a start.

A broker that has only just started still compiles its hot paths under the first load. In
the first soak after a start it cost about twice its CPU per reading and every alert p99 was
147-524 ms (17 of 17 runs); later runs cost 0.97-1.35 CPU-s per 10k readings
(docs/architecture.md, "Latency"). Its CPU time since the start tells the two apart.
"""

from __future__ import annotations

__all__ = ["BROKER_WARM_UP_S", "COLD_BELOW_CPU_S", "warm_up_s"]

COLD_BELOW_CPU_S = 30.0  # a broker that has used less since its start is still cold
BROKER_WARM_UP_S = 60.0  # of load at the soak's rate warms it


def warm_up_s(asked_s: float, broker_cpu_s: float | None, *,
              cold_below_cpu_s: float = COLD_BELOW_CPU_S,
              broker_s: float = BROKER_WARM_UP_S) -> float:
    """The warm-up to run: `asked_s`, raised to `broker_s` while the broker has used less
    than `cold_below_cpu_s` of CPU since it started (None: unknown, left as asked)."""
    if broker_cpu_s is None or broker_cpu_s >= cold_below_cpu_s:
        return asked_s
    return max(asked_s, broker_s)
