"""The storage fast path writes the very line the validating path writes, for every record
it takes; it declines (None) whatever it cannot be sure of, and pydantic decides those."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from ioc.core.registry import Registry
from ioc.core.schemas import (
    DrainageReading,
    Reading,
    StreetlightReading,
    TrafficReading,
    reading_from_json,
    reading_to_json,
)
from ioc.storage.influx_writer import nanoseconds, reading_line
from ioc.storage.reading_lines import ReadingLines
from ioc.testing.factories import mixed_fleet, scenario_feed

FLEET = mixed_fleet(["tan-phu", "tan-binh"], 2)
REGISTRY = Registry(FLEET)

_times = st.datetimes(min_value=datetime(1969, 1, 1), max_value=datetime(2100, 1, 1),
                      timezones=st.sampled_from([UTC, timezone(timedelta(hours=7)),
                                                 timezone(timedelta(hours=-3, minutes=-30))]))
_opt_num = st.none() | st.floats(-1e6, 1e6, allow_nan=False) | st.integers(-10**6, 10**6)
_num = st.floats(-1e6, 1e6, allow_nan=False) | st.integers(-10**6, 10**6)
_common = {"device_id": st.sampled_from([d.id for d in FLEET] + ["unknown-1", "a,b c=d"]),
           "ward": st.none() | st.sampled_from(["tan-phu", "", "x y"]),
           "observed_at": _times, "received_at": _times,
           "seq": st.none() | st.integers(0, 2**40), "battery_level": _opt_num,
           "ignored": st.integers(0, 5)}


def _model(cls: type[Reading], **fields: Any) -> st.SearchStrategy[Reading]:
    return st.fixed_dictionaries({**_common, **fields}).map(lambda kw: cls(**kw))




# one encoder for every record of a test session: its cached shapes and series keys come
# from earlier, different records
_SHARED = {id(REGISTRY): ReadingLines(REGISTRY), id(None): ReadingLines(None)}


def fast_reading_line(value: bytes, registry: Registry | None = None) -> str | None:
    """The fast path's line, through a fresh encoder, then a warm one (cached series and
    shape), then one warmed by every record before it."""
    encoder = ReadingLines(registry)
    first = encoder.line(value)
    assert encoder.line(value) == first
    shared = _SHARED.get(id(registry))
    assert shared is None or shared.line(value) == first
    return first


_readings = st.one_of(
    _model(TrafficReading, intensity=st.integers(0, 10**5), average_speed_kmh=_num,
           occupancy=_num, lane_direction=st.none() | st.text(max_size=5)),
    _model(StreetlightReading, power_state=st.sampled_from(["on", "off", "low"]),
           power_w=_num, energy_kwh=_opt_num, voltage_v=_opt_num, current_a=_opt_num,
           illuminance=_opt_num),
    _model(DrainageReading, water_level_m=_opt_num, precipitation_mm=_opt_num,
           flow_m3s=_opt_num))


@settings(max_examples=400, deadline=None)
@given(_readings, st.booleans())
def test_the_bridges_records_get_the_validating_paths_line(r: Reading, tags: bool) -> None:
    registry = REGISTRY if tags else None
    line = fast_reading_line(reading_to_json(r), registry)
    assert line is not None
    assert line == reading_line(reading_from_json(reading_to_json(r)), registry)


def test_every_reading_of_a_scenario_takes_the_fast_path_to_the_same_line() -> None:
    feed = scenario_feed("flash-flood", duration_s=1800)
    registry = Registry(feed.catalog)
    for r in feed.readings:
        assert fast_reading_line(reading_to_json(r), registry) == reading_line(r, registry)


_MUTATIONS: list[Any] = [None, True, 1, 1.5, "1.5", "", [], {}, "2025-06-02T06:00:00Z",
                         "2025-06-02T13:00:00+07:00", "2025-06-02 06:00:00+00:00",
                         "2025-06-02T06:00:00", "on", "traffic", 2**64 - 1]


@settings(max_examples=600, deadline=None)
@given(_readings, st.data())
def test_a_changed_record_gets_the_validating_paths_answer_or_is_declined(
        r: Reading, data: st.DataObject) -> None:
    doc = orjson.loads(reading_to_json(r))
    key = data.draw(st.sampled_from([*doc, "extra", "device_id", "powerstate", "domain"]))
    if data.draw(st.booleans()) and key in doc:
        del doc[key]
    else:
        doc[key] = data.draw(st.sampled_from(_MUTATIONS))
    value = orjson.dumps(doc)
    line = fast_reading_line(value, REGISTRY)
    if line is None:
        return  # the sink validates it with pydantic instead
    try:
        expected = reading_line(reading_from_json(value), REGISTRY)
    except ValidationError:
        pytest.fail(f"fast path took a record pydantic rejects: {doc}")
    assert line == expected


@pytest.mark.parametrize("value", [
    b"not json", b"[1, 2]", b"{}", b'{"domain": "weather"}', b'{"domain": []}',
    b'{"domain": {"a": 1}}',
    b'{"deviceId": "d", "domain": "traffic", "observedAt": "2025-06-02T06:00:00+00:00"}',
])
def test_what_is_not_a_reading_is_declined(value: bytes) -> None:
    assert fast_reading_line(value) is None


@given(_times)
def test_nanoseconds_are_calendar_exact(t: datetime) -> None:
    assert nanoseconds(t) == (calendar.timegm(t.utctimetuple()) * 1_000_000 +
                              t.microsecond) * 1000


@pytest.mark.parametrize("key", ["waterLevelM", "precipitationMm", "flowM3S", "batteryLevel"])
def test_whole_numbers_are_written_as_floats_as_the_model_holds_them(key: str) -> None:
    doc = orjson.loads(reading_to_json(drain_reading()))
    doc[key] = 2  # a JSON integer in a float field
    value = orjson.dumps(doc)
    line = fast_reading_line(value, REGISTRY)
    assert line is not None and line == reading_line(reading_from_json(value), REGISTRY)


def drain_reading() -> Reading:
    """A drainage reading of a registry device."""
    return DrainageReading(device_id=FLEET[0].id, observed_at=datetime(2025, 6, 2, tzinfo=UTC),
                           received_at=datetime(2025, 6, 2, tzinfo=UTC), water_level_m=0.5)
