"""InfluxWriter: line protocol, idempotent timestamps, retries and all-or-error batches."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ioc.storage.influx_writer import (
    InfluxWriter,
    StorageError,
    StorageRefused,
    StorageRejected,
    WriteRefused,
    alert_line,
    reading_line,
)
from ioc.testing.factories import T0, drain, drainage_device, lamp, registry, traffic


def test_reading_lines_use_device_time_and_low_cardinality_tags() -> None:
    reg = registry(drainage_device("d1", basin="b 1,x"))
    t = datetime(2025, 6, 2, 3, 0, 0, 123456, tzinfo=UTC)
    line = reading_line(drain("d1", t, 0.5, rain=2.0), reg)
    assert line == ("drainage,basin=b\\ 1\\,x,device=d1,domain=drainage,ward=tan-phu "
                    "waterLevel=0.5,precipitation=2.0 1748833200123456000")
    assert reading_line(traffic("t1", T0, 30.0, 0.2, 7)).startswith(
        "traffic,device=t1,domain=traffic intensity=7i,averageVehicleSpeed=30.0,occupancy=0.2 ")
    assert 'powerState="on"' in reading_line(lamp("l1", T0, "on", 99.0))


def test_alert_line_has_id_as_field_not_tag() -> None:
    from ioc.processors.detector import Detector

    det = Detector(registry(drainage_device("d1")))
    alert = det.process(drain("d1", T0, 0.7))[0]
    line = alert_line(alert)
    assert line.startswith("alerts,rule=flood.level,severity=high,status=open,subject=d1,"
                           "ward=tan-phu ")
    assert 'id="flood.level:d1:20250602T030000Z"' in line


def test_retries_then_succeeds() -> None:
    calls: list[int] = []

    def flaky(lines: list[str]) -> None:
        calls.append(len(lines))
        if len(calls) < 3:
            raise ConnectionError("down")

    w = InfluxWriter(flaky, attempts=5, sleep=lambda s: None)
    assert w.write_readings([drain("d1", T0, 0.1)]) == 1
    assert calls == [1, 1, 1] and w.stats["retries"] == 2


def test_persistent_failure_raises_so_offsets_are_not_committed() -> None:
    def down(lines: list[str]) -> None:
        raise ConnectionError("down")

    waits: list[float] = []
    w = InfluxWriter(down, attempts=4, backoff_s=1, max_backoff_s=3, sleep=waits.append)
    with pytest.raises(StorageError):
        w.write_readings([drain("d1", T0, 0.1)])
    assert waits == [1, 2, 3]


def _answering(*answers: Exception | None) -> tuple[list[int], InfluxWriter]:
    """A writer whose sink answers each call with the next item (None: accepted)."""
    calls: list[int] = []

    def sink(lines: list[str]) -> None:
        calls.append(len(lines))
        answer = answers[min(len(calls), len(answers)) - 1]
        if answer is not None:
            raise answer

    return calls, InfluxWriter(sink, attempts=5, sleep=lambda s: None)


@pytest.mark.parametrize("status", [401, 403, 404])
def test_a_refused_write_is_raised_at_once_with_what_to_check(status: int) -> None:
    calls, w = _answering(WriteRefused(status, "unauthorized access"))
    with pytest.raises(StorageRefused, match="IOC_INFLUX_WRITE_TOKEN"):
        w.write_readings([drain("d1", T0, 0.1)])
    assert calls == [1]


def test_rejected_points_are_not_sent_again() -> None:
    calls, w = _answering(WriteRefused(422, "partial write: field type conflict"))
    with pytest.raises(StorageRejected, match="field type conflict"):
        w.write_readings([drain("d1", T0, 0.1)])
    assert calls == [1]


@pytest.mark.parametrize("status", [429, 500, 503])
def test_busy_or_failing_server_answers_are_retried(status: int) -> None:
    calls, w = _answering(WriteRefused(status, "try later"), None)
    assert w.write_readings([drain("d1", T0, 0.1)]) == 1
    assert calls == [1, 1]
