"""Deeply nested JSON is a `bad_json` dead letter, never a RecursionError (issue 9)."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from ioc.core.contract import MAX_JSON_DEPTH, RejectReason, TelemetryRejected, parse_telemetry
from ioc.core.registry import Registry
from ioc.core.schemas import DrainageReading
from ioc.core.topics import telemetry_topic
from ioc.processors.backtest import run_backtest
from ioc.testing.factories import drainage_device

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
DR = telemetry_topic("drainage", "dr-1")
GOOD = b'{"dateObserved": "2026-11-27T16:59:00+07:00", "waterLevel": 0.3'


def _reason(payload: bytes) -> TelemetryRejected:
    with pytest.raises(TelemetryRejected) as info:
        parse_telemetry(DR, payload, NOW)
    return info.value


@pytest.mark.parametrize("payload", [
    b"[" * 16_000,                                   # the attack: not even closed
    b"{" + b'"a":{' * 3_000,                         # nested objects
    GOOD + b', "x": ' + b"[" * 2_000 + b"]" * 2_000 + b"}",  # valid JSON, ignored field
    b"[" * 16_000 + b"\xff",                         # deep and not UTF-8
])
def test_deep_nesting_is_bad_json(payload: bytes) -> None:
    rejected = _reason(payload)
    assert rejected.reason is RejectReason.BAD_JSON
    assert f"deeper than {MAX_JSON_DEPTH}" in rejected.detail


def test_nesting_at_the_limit_and_brackets_in_strings_are_fine() -> None:
    inner = b"[" * (MAX_JSON_DEPTH - 1) + b"]" * (MAX_JSON_DEPTH - 1)
    reading = parse_telemetry(DR, GOOD + b', "x": ' + inner + b"}", NOW)
    assert isinstance(reading, DrainageReading)
    assert reading.water_level_m == 0.3 and reading.ignored == 1
    quoted = orjson.dumps("[" * 5_000 + '\\"{' * 100)
    reading = parse_telemetry(DR, GOOD + b', "note": ' + quoted + b"}", NOW)
    assert reading.ignored == 1


def test_backtest_counts_a_deep_payload_and_goes_on() -> None:
    registry = Registry([drainage_device("dr-1")])
    good = orjson.dumps({"dateObserved": int(NOW.timestamp() * 1000), "waterLevel": 0.3})
    lines = [orjson.dumps({"at": 0, "topic": DR, "payload": "[" * 16_000}),
             orjson.dumps({"at": 1, "topic": DR, "payload": good.decode()})]
    result = run_backtest(lines, registry)
    assert result.rejected == {"bad_json": 1}
    assert result.readings == 1
