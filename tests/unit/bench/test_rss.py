"""RSS sampling and its summary: the figures the soak prints per process."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from ioc.bench.rss import RssSampler, format_table, read_cpu_s, read_rss_kib, summarise
from ioc.bench.soak import SoakResult


def test_a_flat_process_has_no_slope_and_a_leaking_one_has_its_rate() -> None:
    flat = summarise("flat", [(t, 100 * 1024) for t in range(0, 600, 10)])
    assert (flat.min_mib, flat.median_mib, flat.max_mib) == (100, 100, 100)
    assert flat.slope_mib_per_10min == 0
    # +1 MiB a minute after a warm-up jump: the jump is left out of the slope
    leak = summarise("leak", [(0, 50 * 1024), *((t, 100 * 1024 + t // 60 * 1024)
                                                 for t in range(60, 1200, 10))])
    assert leak.slope_mib_per_10min == pytest.approx(10, rel=0.05)
    assert leak.min_mib == 50 and leak.max_mib == pytest.approx(119)
    assert "leak" in format_table([flat, leak]) and "+9.96" in format_table([leak])


def test_the_sampler_reads_this_process_and_skips_missing_ones() -> None:
    assert (read_rss_kib(os.getpid()) or 0) > 1000
    sampler = RssSampler({"me": os.getpid, "gone": lambda: None}, every_s=0.01)
    sampler.start()
    rows = sampler.stop()
    assert [r.name for r in rows] == ["me"] and rows[0].samples >= 1


def _result(**kw: int) -> SoakResult:
    base = dict(minutes=1.0, rate=10, devices=2, published=600, acked=600, achieved_rate=10.0,
                kafka_distinct=600, kafka_duplicates=3, influx_points=600, influx_extra=0,
                alert_records=0, drain_s=1.0)
    return SoakResult(**{**base, **kw})  # type: ignore[arg-type]


def test_loss_anywhere_or_a_point_stored_twice_fails_the_soak() -> None:
    assert _result().ok and _result().lost == 0  # duplicates in Kafka are not a loss
    assert _result(acked=599).lost == 1
    assert _result(kafka_distinct=598).lost == 2 and not _result(kafka_distinct=598).ok
    assert _result(influx_points=590).lost_in_influx == 10
    assert not _result(influx_extra=1).ok


def test_the_end_to_end_rate_spans_publishing_and_draining() -> None:
    assert _result(end_to_end_s=4.0).end_to_end_rate == 150.0  # type: ignore[arg-type]
    assert _result().end_to_end_rate == 0.0  # not measured


def test_cpu_time_is_counted_between_the_first_and_last_sample() -> None:
    before = read_cpu_s(os.getpid()) or 0.0
    sampler = RssSampler({"me": os.getpid}, every_s=0.01)
    sampler.start()
    deadline = (read_cpu_s(os.getpid()) or 0.0) + 0.3
    while (read_cpu_s(os.getpid()) or 0.0) < deadline:  # burn 0.3 CPU-s while it samples
        sum(i * i for i in range(10_000))
    rows = sampler.stop()
    assert before > 0 and 0.1 < rows[0].cpu_s < 5
    assert "CPU-s/10k" in format_table(rows, 1000) and f"{rows[0].cpu_s * 10:.3f}" in \
        format_table(rows, 1000)


def test_a_group_counts_the_memory_and_cpu_of_every_member() -> None:
    # a parent that only supervises (`--processes N`) and a member doing the work
    member = subprocess.Popen([sys.executable, "-c",
                               "import time\nend = time.process_time() + 0.6\n"
                               "while time.process_time() < end: pass\n"
                               "time.sleep(30)"])
    try:
        sampler = RssSampler({"group": lambda: [os.getpid(), member.pid],
                              "parent": os.getpid}, every_s=0.01)
        sampler.start()
        deadline = time.monotonic() + 20
        while (read_cpu_s(member.pid) or 0.0) < 0.6 and time.monotonic() < deadline:
            time.sleep(0.05)  # polling the member's CPU clock, with a deadline
        rows = {r.name: r for r in sampler.stop()}
    finally:
        member.kill()
        member.wait()
    assert rows["group"].cpu_s >= 0.3 > rows["parent"].cpu_s
    # the member's interpreter adds megabytes on top of this process
    assert rows["group"].max_mib > rows["parent"].max_mib + 2


def test_with_children_the_cpu_of_waited_for_children_counts() -> None:
    def extra() -> float:
        return (read_cpu_s(os.getpid(), children=True) or 0.0) - (read_cpu_s(os.getpid()) or 0.0)

    before = extra()
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass"
    subprocess.run([sys.executable, "-c", burn], check=True)  # run waits for the child
    assert extra() - before >= 0.25
