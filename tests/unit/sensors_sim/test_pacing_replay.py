"""Pacing with a fake clock, option parsing, and shifting dateObserved on replay."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from ioc.core.errors import ConfigError
from ioc.sensors_sim.options import default_start, parse_duration, parse_speed, parse_start
from ioc.sensors_sim.pacing import pump
from ioc.sensors_sim.replay import shift_delta, shift_payload


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _run(ats: list[float], speed: float | None, rate: float | None) -> list[float]:
    clock = FakeClock()
    sent: list[float] = []
    pump(((at, "t", b"") for at in ats), lambda topic, payload: sent.append(clock.now),
         speed=speed, rate=rate, clock=clock, sleep=clock.sleep)
    return sent


def test_speed_divides_inter_arrival_times() -> None:
    assert _run([0, 10, 30], 10.0, None) == pytest.approx([0, 1, 3])
    assert _run([0, 10, 30], None, None) == [0, 0, 0]


def test_rate_caps_messages_per_second() -> None:
    assert _run([0, 0, 0, 0], None, 2.0) == pytest.approx([0, 0.5, 1.0, 1.5])


def test_progress_is_reported() -> None:
    calls: list[int] = []
    clock = FakeClock()
    pump(((float(i), "t", b"") for i in range(5)), lambda t, p: None, speed=1.0,
         progress=lambda n, e: calls.append(n), clock=clock, sleep=clock.sleep)
    assert calls[0] < 5 and calls[-1] == 5 and clock.now == pytest.approx(4.0)


@pytest.mark.parametrize(("text", "seconds"), [("90m", 5400), ("6h", 21600), ("1h30m", 5400),
                                                ("45", 45), ("2d", 172800)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "6x", "-5", "1h-3m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_duration(text)


def test_speed_and_start() -> None:
    assert parse_speed("max") is None and parse_speed("60") == 60.0
    with pytest.raises(ConfigError):
        parse_speed("fast")
    assert parse_start("2025-06-15T12:00").utcoffset().total_seconds() == 7 * 3600  # type: ignore[union-attr]
    now = datetime(2025, 6, 15, tzinfo=UTC)
    assert default_start(now, 3600, 1.0) == now
    assert (now - default_start(now, 3600, 4.0)).total_seconds() == 2700


def test_shift_payload_moves_iso_and_epoch_and_leaves_junk() -> None:
    iso = orjson.loads(shift_payload(b'{"dateObserved":"2025-06-15T12:00:00.000+07:00"}', 90))
    assert iso["dateObserved"] == "2025-06-15T12:01:30.000+07:00"
    epoch = orjson.loads(shift_payload(b'{"dateObserved":1000,"x":1}', 2))
    assert epoch == {"dateObserved": 3000, "x": 1}
    assert shift_payload(b'{"broken', 5) == b'{"broken'
    assert shift_payload(b'{"waterLevel":NaN}', 5) == b'{"waterLevel":NaN}'


def test_shift_delta_never_stamps_ahead_of_publishing() -> None:
    assert shift_delta(origin=1000, span_s=3600, now=10_000, speed=1.0) == 9000
    delta = shift_delta(origin=1000, span_s=3600, now=10_000, speed=None)
    assert 1000 + 3600 + delta == 10_000  # at max speed the feed ends now
    delta = shift_delta(origin=1000, span_s=3600, now=10_000, speed=10)
    # the last reading is published 360 s after now and stamped no later than that
    assert 1000 + 3600 + delta <= 10_000 + 360
