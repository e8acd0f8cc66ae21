"""The soak splits each crossing's publish → alert time at the bridge's produce call."""

from __future__ import annotations

import dataclasses

from ioc.bench.cli import _soak_report
from ioc.bench.jvm_pauses import Pauses
from ioc.bench.soak import SoakResult
from ioc.bench.soak_count import crossing_hops, latency_summary

_RUN = SoakResult(1, 2000, 2000, 120_000, 120_000, 2000.0, 120_000, 0, 120_000, 0, 370, 60.0)


def test_each_crossing_splits_into_its_two_hops() -> None:
    sent = {"a": 100.0, "b": 200.0, "c": 300.0, "never": 400.0}
    produced = {"a": 100.010, "b": 200.150}  # c's record was not found in Kafka
    alerted = {"a": 100.040, "b": 200.170, "c": 300.050}
    hops = crossing_hops(sent, produced, alerted)
    ms = {k: [round(s * 1000) for s in v] for k, v in hops.items()}
    # the whole: every crossing alerted; the parts: only where the record was found
    assert ms == {"publish → alert": [40, 50, 170], "publish → produce": [10, 150],
                  "produce → alert": [20, 30]}


def test_summary_counts_what_is_missing() -> None:
    assert latency_summary([0.010, 0.020, 0.300], 4) == {
        "count": 3, "missing": 1, "p50_ms": 20.0, "p99_ms": 300.0, "max_ms": 300.0}
    assert latency_summary([], 2) == {"count": 0, "missing": 2}


def test_report_shows_the_hops_and_the_brokers_pauses() -> None:
    run = dataclasses.replace(
        _RUN, kafka_pauses=Pauses(7, 312.4, 104.0),
        hops_ms={"publish → produce": {"count": 181, "missing": 0, "p50_ms": 3.0,
                                       "p99_ms": 80.0, "max_ms": 90.0}})
    report = _soak_report(run)
    assert "    publish → produce: p50_ms 3, p99_ms 80, max_ms 90" in report
    assert "Kafka while publishing: 7 GC pause(s), 312 ms in all, the longest 104.0 ms" in report
    assert "Kafka while publishing" not in _soak_report(_RUN)  # no GC log: no claim
