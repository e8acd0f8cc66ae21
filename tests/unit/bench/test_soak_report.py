"""The soak report marks runs whose latency the hypervisor's share of the CPU disturbed."""

from __future__ import annotations

import dataclasses

import pytest

from ioc.bench.cli import _soak_report
from ioc.bench.machine import STEAL_DISTURBED_PCT, CpuShare
from ioc.bench.soak import SoakResult

_RUN = SoakResult(1, 2000, 2000, 120_000, 120_000, 2000.0, 120_000, 0, 120_000, 0, 370, 60.0)


def _with_steal(pct: float) -> SoakResult:
    return dataclasses.replace(_RUN, cpu=CpuShare(100 - 30 - pct, 30.0, pct, 40.0))


@pytest.mark.parametrize(("steal", "disturbed"),
                         [(0.0, False), (4.9, False), (STEAL_DISTURBED_PCT, True), (25.6, True)])
def test_a_run_is_host_disturbed_from_the_threshold_on(steal: float, disturbed: bool) -> None:
    assert _with_steal(steal).cpu.host_disturbed is disturbed  # type: ignore[union-attr]
    report = _soak_report(_with_steal(steal))
    assert ("HOST DISTURBED" in report) is disturbed
    assert f"stolen by the hypervisor {steal:g} %" in report


def test_without_cpu_figures_nothing_is_claimed_about_the_host() -> None:
    report = _soak_report(_RUN)
    assert "HOST DISTURBED" not in report
    assert "while publishing" not in report


def test_the_kept_up_rates_are_reported_or_said_to_be_missing() -> None:
    kept = _soak_report(dataclasses.replace(_RUN, kept_up=(1987.5, 1990.0)))
    assert "kept up: judged 1987.5/s, stored 1990/s (offsets committed" in kept
    assert "kept up: not measured" in _soak_report(_RUN)
