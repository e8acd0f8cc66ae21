"""The soak's load: readings published round robin at a steady rate, some of them crossing
their device's warning level on a fixed schedule, after an unmeasured warm-up."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import orjson

from ioc.bench.lag_watch import GroupLags, LagWatch
from ioc.bench.publishers import PublisherPool
from ioc.core.registry import Device
from ioc.core.topics import telemetry_topic

__all__ = ["Load", "crossing", "stream"]

Say = Callable[[str], None]
_SLOT_S = 0.001  # the load's pacing step: messages of one slot leave together
_MOST_QUEUED = 64  # sent at once when publishing falls behind (no slot ends in a sleep)


def _payload(seq: int, at_ms: int, high: bool) -> bytes:
    return orjson.dumps({"dateObserved": at_ms, "seq": seq, "waterLevel": 1.2 if high else 0.3})


def crossing(seq: int, device: int, warm_seq: int) -> bool:
    """Whether reading `seq` of device number `device` is over the warning level: 3 readings
    in every 600, staggered by device, none of them before reading `warm_seq`."""
    k = (seq + 7 * device) % 600  # the k-th reading of this device's crossing
    return k < 3 and seq - k >= warm_seq


class Load:
    """How much to publish: `rate`/s for `warmup_s` unmeasured, then `seconds` measured."""

    def __init__(self, rate: int, seconds: float, warmup_s: float) -> None:
        self.rate, self.seconds, self.warmup_s = rate, seconds, warmup_s
        self.warm = int(rate * warmup_s)  # readings published before the measured window
        self.total = self.warm + int(rate * seconds)

    def warm_seq(self, devices: int) -> int:
        """The first reading number of a device that may cross its level."""
        return math.ceil(self.warmup_s * self.rate / devices)


def stream(devices: Sequence[Device], pub: PublisherPool, load: Load, say: Say,
           sent_at: dict[str, tuple[float, int]], lags: GroupLags,
           measure: Callable[[], None]) -> int:
    """Publish round robin as `load` says, calling `measure()` as the warm-up ends; returns
    messages published, and notes in `sent_at` when each device's first crossing was
    published, and its seq.

    Reading `seq` of a device is observed at start + seq × its period (distinct, in order);
    it crosses its warning level as `crossing` says, none of them within the warm-up."""
    n, rate = len(devices), load.rate
    warm_seq = load.warm_seq(n)
    topics = [telemetry_topic("drainage", d.id) for d in devices]
    period_ms = n * 1000 / rate
    start, start_ms = time.monotonic(), int(time.time() * 1000) - 1000
    report_every = max(10.0, min(60.0, (load.seconds + load.warmup_s) / 5))
    next_report = start + report_every
    watch = LagWatch(lags, report_every)
    watch.start()
    try:
        for i in range(load.total):
            if i == load.warm:
                pub.flush()
                measure()
            j, seq = i % n, i // n
            high = crossing(seq, j, warm_seq)
            if high and devices[j].id not in sent_at:
                sent_at[devices[j].id] = (time.time(), seq)
            pub.publish(devices[j].id, topics[j],
                        _payload(seq, start_ms + int(seq * period_ms), high))
            now = time.monotonic()
            delay = start + (i + 1) / rate - now
            # paced in slots: one write per gateway and one sleep per slot, not per message
            if delay >= _SLOT_S:
                pub.flush()
                time.sleep(delay)  # pacing the load, not synchronization
            elif pub.queued >= _MOST_QUEUED:  # behind schedule: no sleep, but keep sending
                pub.flush()
            if now >= next_report:
                next_report += report_every
                worker, storage = watch.latest or (None, None)
                phase = "" if i >= load.warm else " (warm-up)"
                say(f"{now - start:6.0f} s{phase}: published {i + 1}, acked {pub.acked}, "
                    f"worker lag {worker}, storage lag {storage}")
    finally:
        watch.stop()
    return load.total
