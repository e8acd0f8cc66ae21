"""The soak names Mosquitto's queue limit when the broker, not the pipeline, dropped readings."""

from __future__ import annotations

from pathlib import Path

from ioc.bench.cli import _soak_report
from ioc.bench.soak import SoakResult
from ioc.bench.soak_count import broker_drops

_LOG = """1796275560: New client connected from 127.0.0.1:5 as soak-256dd977 (p5, c0, k30).
1796275653: Outgoing messages are being dropped for client soak-256dd977.
1796275700: Outgoing messages are being dropped for client soak-11111111.
1796275710: Outgoing messages are being dropped for client soak-256dd977-m1.
"""


def test_drops_are_counted_for_the_run_s_client_and_its_members_only(tmp_path: Path) -> None:
    log = tmp_path / "mosquitto.log"
    log.write_text(_LOG)
    assert broker_drops(log, "soak-256dd977") == 2
    assert broker_drops(log, "soak-99999999") == 0
    assert broker_drops(tmp_path / "missing.log", "soak-256dd977") == 0


def _result(drops: int) -> SoakResult:
    return SoakResult(1, 10_000, 5000, 600_000, 600_000, 9999.0, 559_665, 0, 559_665, 0,
                      1800, 60.0, broker_drops=drops)


def test_the_report_names_the_broker_s_queue_limit_only_when_it_dropped() -> None:
    assert "max_queued_bytes" in _soak_report(_result(1))
    assert "LOST: 40335  (FAILED)" in _soak_report(_result(1))
    assert "max_queued_bytes" not in _soak_report(_result(0))
