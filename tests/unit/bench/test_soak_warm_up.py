"""The soak's warm-up: longer while the broker is fresh from a start, left out of the
measured figures, and its readings counted all the same."""

from __future__ import annotations

import dataclasses
import os

import pytest

from ioc.bench.broker_warmth import BROKER_WARM_UP_S, COLD_BELOW_CPU_S, warm_up_s
from ioc.bench.cli import _soak_report
from ioc.bench.rss import RssSampler, RssSummary, read_cpu_s
from ioc.bench.soak import SoakResult
from ioc.bench.soak_load import Load, crossing


@pytest.mark.parametrize(("asked", "cpu", "expected"), [
    (5.0, 7.4, BROKER_WARM_UP_S),  # a broker that has only started
    (5.0, COLD_BELOW_CPU_S, 5.0),  # from the threshold on it is warm
    (5.0, 900.0, 5.0),
    (90.0, 7.4, 90.0),  # a longer warm-up asked for is kept
    (5.0, None, 5.0),  # no broker process found: as asked
])
def test_a_fresh_broker_raises_the_warm_up(asked: float, cpu: float | None,
                                           expected: float) -> None:
    assert warm_up_s(asked, cpu) == expected


def test_the_load_adds_the_warm_up_before_the_measured_seconds() -> None:
    load = Load(rate=2000, seconds=60, warmup_s=5)
    assert (load.warm, load.total) == (10_000, 130_000)
    # 2,000 devices in turn: each publishes once a second, the first 5 readings are warm-up
    assert load.warm_seq(2000) == 5
    assert not any(crossing(seq, d, load.warm_seq(2000)) for d in range(2000)
                   for seq in range(5))
    assert Load(rate=2000, seconds=60, warmup_s=0).warm_seq(2000) == 0


def test_rebase_leaves_the_cpu_time_before_it_out() -> None:
    sampler = RssSampler({"me": os.getpid}, every_s=0.01)
    sampler.start()
    deadline = (read_cpu_s(os.getpid()) or 0.0) + 0.4
    while (read_cpu_s(os.getpid()) or 0.0) < deadline:  # 0.4 CPU-s of "warm-up"
        sum(i * i for i in range(10_000))
    sampler.rebase()
    rows = sampler.stop()
    assert rows[0].cpu_s < 0.3, rows  # the burn before rebase is not in it


_RUN = SoakResult(1, 2000, 2000, 130_000, 130_000, 2000.0, 130_000, 0, 130_000, 0, 370, 1.0,
                  [RssSummary("kafka", 12, 400, 420, 450, 450, 0.0, 12.0)], warmup_s=5.0,
                  measured=120_000)


def test_the_report_counts_the_warm_up_and_gives_cpu_per_measured_reading() -> None:
    report = _soak_report(_RUN)
    assert "published 130000 (120000 after 5 s of warm-up)" in report
    assert "1.000" in report.splitlines()[-1]  # 12 CPU-s for 120,000 readings, not 130,000
    old = _soak_report(dataclasses.replace(_RUN, measured=0))  # a result from before
    assert "0.923" in old.splitlines()[-1]
