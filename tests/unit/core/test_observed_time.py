"""Every date form the Smart Data Models allow for the observation time, and the bad ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from ioc.core.contract import RejectReason, TelemetryRejected, parse_telemetry

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TRAFFIC = "ioc/v1/traffic/tr-1/telemetry"
DRAIN = "ioc/v1/drainage/dr-1/telemetry"
LAMP = "ioc/v1/streetlight/sl-1/telemetry"
_BASE: dict[str, dict[str, Any]] = {
    TRAFFIC: {"intensity": 5, "averageVehicleSpeed": 40.0, "occupancy": 0.2},
    DRAIN: {"waterLevel": 0.4}, LAMP: {"powerState": "on", "powerConsumption": 80}}


def _observed(topic: str, fields: dict[str, Any]) -> datetime:
    body = {**_BASE[topic], **fields}
    observed = parse_telemetry(topic, orjson.dumps(body), NOW).observed_at
    assert observed.tzinfo is not None and observed.utcoffset() == timedelta(0)
    return observed


def _rejected(topic: str, fields: dict[str, Any]) -> TelemetryRejected:
    body = {**_BASE[topic], **fields}
    with pytest.raises(TelemetryRejected) as info:
        parse_telemetry(topic, orjson.dumps(body), NOW)
    return info.value


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
         microsecond: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=UTC)


@pytest.mark.parametrize(("value", "expected"), [
    ("2016-11-30T07:00:00Z", _utc(2016, 11, 30, 7)),
    ("2016-11-30T07:00:00.00Z", _utc(2016, 11, 30, 7)),  # WeatherObserved's example
    ("2020-03-17T08:45:00.209Z", _utc(2020, 3, 17, 8, 45, 0, 209000)),
    ("2020-03-17T08:45:00.2Z", _utc(2020, 3, 17, 8, 45, 0, 200000)),
    ("2020-03-17T08:45:00.123456Z", _utc(2020, 3, 17, 8, 45, 0, 123456)),
    ("2020-03-17T08:45:00.1234567Z", _utc(2020, 3, 17, 8, 45, 0, 123456)),
    ("2021-01-11T15:51:02+05:30", _utc(2021, 1, 11, 10, 21, 2)),
    ("2026-12-01T18:30:00+07:00", _utc(2026, 12, 1, 11, 30)),
    ("2026-12-01T08:00:00-03:30", _utc(2026, 12, 1, 11, 30)),
    ("2026-12-01T11:30:00+00:00", _utc(2026, 12, 1, 11, 30)),
    ("2026-12-01t11:30:00z", _utc(2026, 12, 1, 11, 30)),  # RFC 3339 allows lower case
    ("2026-12-01 11:30:00Z", _utc(2026, 12, 1, 11, 30)),  # RFC 3339 allows a space
    ("2016-12-31T23:59:60Z", _utc(2017, 1, 1)),  # a leap second
    ("2016-12-31T23:59:60.5Z", _utc(2017, 1, 1, 0, 0, 0, 500000)),
])
def test_date_time_instants_of_every_allowed_form(value: str, expected: datetime) -> None:
    assert _observed(DRAIN, {"dateObserved": value}) == expected


def test_epoch_milliseconds_still_accepted() -> None:
    assert _observed(DRAIN, {"dateObserved": 1_480_489_200_000}) == _utc(2016, 11, 30, 7)


@pytest.mark.parametrize(("value", "expected"), [
    ("2016-12-07T11:10:00Z/2016-12-07T11:15:00Z", _utc(2016, 12, 7, 11, 15)),
    # the end inherits the start's offset (ISO 8601), and the other way round
    ("2016-12-07T18:10:00+07:00/2016-12-07T18:15:00", _utc(2016, 12, 7, 11, 15)),
    ("2016-12-07T18:10:00/2016-12-07T18:15:00+07:00", _utc(2016, 12, 7, 11, 15)),
    ("2016-12-07T11:10:00Z/PT5M", _utc(2016, 12, 7, 11, 15)),
    ("2016-12-07T11:10:00Z/PT0,5M", _utc(2016, 12, 7, 11, 10, 30)),
    ("2016-12-06T09:10:00Z/P1DT2H5M", _utc(2016, 12, 7, 11, 15)),
    ("2016-11-30T11:15:00Z/P1W", _utc(2016, 12, 7, 11, 15)),
    ("PT5M/2016-12-07T11:15:00Z", _utc(2016, 12, 7, 11, 15)),
    ("2016-12-07T11:10:00Z/11:15:00", _utc(2016, 12, 7, 11, 15)),  # end abbreviated
])
def test_traffic_intervals_are_observed_at_their_end(value: str, expected: datetime) -> None:
    assert _observed(TRAFFIC, {"dateObserved": value}) == expected


def test_an_interval_without_offset_takes_its_end_from_date_observed_to() -> None:
    # the official TrafficFlowObserved example: a naive interval beside dateObservedFrom/To
    fields = {"dateObserved": "2016-12-07T11:10:00/2016-12-07T11:15:00",
              "dateObservedFrom": "2016-12-07T11:10:00Z",
              "dateObservedTo": "2016-12-07T11:15:00Z"}
    assert _observed(TRAFFIC, fields) == _utc(2016, 12, 7, 11, 15)


def test_streetlight_observation_date_time_stands_in_for_date_observed() -> None:
    alone = {"observationDateTime": "2021-01-11T15:51:02+05:30"}
    assert _observed(LAMP, alone) == _utc(2021, 1, 11, 10, 21, 2)
    both = {**alone, "dateObserved": "2026-12-01T11:00:00Z"}  # dateObserved wins
    assert _observed(LAMP, both) == _utc(2026, 12, 1, 11)


@pytest.mark.parametrize(("topic", "fields", "reason", "says"), [
    (DRAIN, {"dateObserved": "yesterday"}, RejectReason.BAD_TIMESTAMP, "not an ISO 8601"),
    (DRAIN, {"dateObserved": "2016-12-07"}, RejectReason.BAD_TIMESTAMP, "without a time"),
    (DRAIN, {"dateObserved": "2016-12-07T11:10:00"}, RejectReason.BAD_TIMESTAMP,
     "lacks an offset"),
    (DRAIN, {"dateObserved": "2016-12-31T23:59:61Z"}, RejectReason.BAD_TIMESTAMP, "ISO 8601"),
    (DRAIN, {"dateObserved": 1.5e12}, RejectReason.WRONG_TYPE, "dateObserved"),
    (DRAIN, {"dateObserved": True}, RejectReason.WRONG_TYPE, "dateObserved"),
    (DRAIN, {"dateObserved": {"value": "2016-12-07T11:10:00Z"}}, RejectReason.WRONG_TYPE,
     "dateObserved"),
    # WaterObserved/WeatherObserved type dateObserved as a date-time: no intervals there
    (DRAIN, {"dateObserved": "2016-12-07T11:10:00Z/PT5M"}, RejectReason.BAD_TIMESTAMP,
     "ISO 8601"),
    (TRAFFIC, {"dateObserved": "2016-12-07T11:10:00/2016-12-07T11:15:00"},
     RejectReason.BAD_TIMESTAMP, "no dateObservedTo"),
    (TRAFFIC, {"dateObserved": "2016-12-07T11:10:00/2016-12-07T11:15:00",
               "dateObservedTo": "soon"}, RejectReason.BAD_TIMESTAMP, "dateObservedTo"),
    (TRAFFIC, {"dateObserved": "2016-12-07T11:15:00Z/2016-12-07T11:10:00Z"},
     RejectReason.BAD_TIMESTAMP, "ends before it starts"),
    (TRAFFIC, {"dateObserved": "2016-12-07T11:10:00Z/P1M"}, RejectReason.BAD_TIMESTAMP,
     "no fixed length"),
    (TRAFFIC, {"dateObserved": "2016-12-07T11:10:00Z/PT"}, RejectReason.BAD_TIMESTAMP,
     "duration"),
    (TRAFFIC, {"dateObserved": "a/b/c"}, RejectReason.BAD_TIMESTAMP, "interval"),
    (TRAFFIC, {"dateObserved": "/2016-12-07T11:10:00Z"}, RejectReason.BAD_TIMESTAMP,
     "interval"),
    (TRAFFIC, {"dateObserved": "2016-12-07T11:10:00Z/P99999999999D"},
     RejectReason.BAD_TIMESTAMP, "range"),
    (TRAFFIC, {"dateObserved": "2026-12-01T11:00:00Z/PT2H"}, RejectReason.FUTURE_TIMESTAMP,
     "ahead of"),
    (LAMP, {}, RejectReason.MISSING_FIELD, "dateObserved (or observationDateTime)"),
    (LAMP, {"observationDateTime": 1_480_489_200_000}, RejectReason.WRONG_TYPE,
     "observationDateTime"),
    (LAMP, {"observationDateTime": "2021-01-11T15:51:02"}, RejectReason.BAD_TIMESTAMP,
     "observationDateTime lacks an offset"),
])
def test_malformed_dates_are_dead_lettered_with_a_reason(
        topic: str, fields: dict[str, Any], reason: RejectReason, says: str) -> None:
    rejected = _rejected(topic, fields)
    assert rejected.reason == reason
    assert says in rejected.detail
