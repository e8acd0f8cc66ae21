"""When a reading was observed: every date form the Smart Data Models allow, as one UTC instant.

The fast path is `datetime.fromisoformat` on an instant with an offset (what every device of
this city sends); intervals, lower-case `t`/`z` and leap seconds take the slow path only.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import Any

from ioc.core.rejects import RejectReason, TelemetryRejected

__all__ = ["MAX_FUTURE", "observed_at", "parse_date_time"]

MAX_FUTURE = timedelta(minutes=5)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NUM = r"(\d+(?:[.,]\d+)?)"
# ISO 8601 durations of fixed length only: a year or a month has no fixed number of seconds
_DURATION = re.compile(rf"P(?:{_NUM}W)?(?:{_NUM}D)?(?:T(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?")
_DURATION_UNITS = ("weeks", "days", "hours", "minutes", "seconds")


def _bad(detail: str) -> TelemetryRejected:
    return TelemetryRejected(RejectReason.BAD_TIMESTAMP, detail)


def _naive(value: str, key: str) -> TelemetryRejected:
    if "T" not in value.upper() and " " not in value:
        return _bad(f"{key} {value[:40]!r} is a date without a time of day")
    return _bad(f"{key} lacks an offset")


def _lenient(value: str, key: str) -> datetime:
    """RFC 3339 forms `fromisoformat` refuses: lower-case `t`/`z`, a leap second."""
    text = value
    if len(text) > 10 and text[10] == "t":
        text = text[:10] + "T" + text[11:]
    if text.endswith("z"):
        text = text[:-1] + "Z"
    leap = text[16:19] == ":60"
    if leap:  # 23:59:60 is the leap second itself; it is read as the instant after 23:59:59
        text = text[:16] + ":59" + text[19:]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise _bad(f"{key} {value[:40]!r} is not an ISO 8601 date-time") from exc
    return parsed + timedelta(seconds=1) if leap else parsed


def _local(value: str, key: str) -> datetime:
    """An ISO 8601 date-time, with or without an offset (intervals may inherit one)."""
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return _lenient(value, key)


def _to_utc(parsed: datetime, value: str, key: str) -> datetime:
    if parsed.tzinfo is None:
        raise _naive(value, key)
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:
        raise _bad(f"{key} {value[:40]!r} is out of range") from exc


def parse_date_time(value: Any, key: str) -> datetime:
    """A JSON-schema `date-time` (RFC 3339: ISO 8601 with an offset) as a UTC-aware datetime."""
    if type(value) is not str:
        raise TelemetryRejected(RejectReason.WRONG_TYPE, f"{key} must be ISO 8601 date-time text")
    return _to_utc(_local(value, key), value, key)


def _duration(text: str, key: str) -> timedelta:
    match = _DURATION.fullmatch(text)
    if match is None or text.endswith(("P", "T")):
        raise _bad(f"{key}: {text[:40]!r} is not a duration of weeks, days, hours, minutes "
                   "or seconds (years and months have no fixed length)")
    parts = {unit: float(v.replace(",", ".")) for unit, v in
             zip(_DURATION_UNITS, match.groups(), strict=True) if v}
    try:
        return timedelta(**parts)
    except OverflowError as exc:
        raise _bad(f"{key}: duration {text[:40]!r} is out of range") from exc


def _end_of(start: datetime, text: str, key: str) -> datetime:
    if text.startswith("P"):
        return start + _duration(text, key)
    if text[:1].isdigit() and ":" in text[:3]:  # `hh:mm[:ss]`: the end shares the start's date
        try:
            clock = time.fromisoformat(text)
        except ValueError as exc:
            raise _bad(f"{key}: interval end {text[:40]!r} is not a time") from exc
        return datetime.combine(start.date(), clock)
    return _local(text, key)


def _interval_end(value: str, key: str) -> datetime | None:
    """The end of an ISO 8601 interval (start/end, start/duration, duration/end), in UTC;
    None when neither end carries an offset (the caller then needs another source)."""
    start_text, _, end_text = value.partition("/")
    if not start_text or not end_text or "/" in end_text:
        raise _bad(f"{key} {value[:60]!r} is not an ISO 8601 instant or interval")
    try:
        if start_text.startswith("P"):
            end = _local(end_text, key)
            start = end - _duration(start_text, key)
        else:
            start = _local(start_text, key)
            end = _end_of(start, end_text, key)
    except OverflowError as exc:
        raise _bad(f"{key} {value[:60]!r} is out of range") from exc
    # ISO 8601: an end written without its offset has the start's (and the other way round)
    if end.tzinfo is None and start.tzinfo is not None:
        end = end.replace(tzinfo=start.tzinfo)
    elif start.tzinfo is None and end.tzinfo is not None:
        start = start.replace(tzinfo=end.tzinfo)
    if end < start:
        raise _bad(f"{key} {value[:60]!r} ends before it starts")
    return None if end.tzinfo is None else _to_utc(end, value, key)


def _unusual(doc: dict[str, Any], value: str, intervals: bool) -> datetime:
    if intervals and "/" in value:
        end = _interval_end(value, "dateObserved")
        if end is not None:
            return end
        if doc.get("dateObservedTo") is None:  # the model's own unambiguous end of the period
            raise _bad("dateObserved interval lacks an offset and there is no dateObservedTo")
        return parse_date_time(doc["dateObservedTo"], "dateObservedTo")
    return _lenient(value, "dateObserved")


def _alternative(doc: dict[str, Any], alternative: str | None) -> datetime:
    if alternative is None or doc.get(alternative) is None:
        hint = f" (or {alternative})" if alternative else ""
        raise TelemetryRejected(RejectReason.MISSING_FIELD, f"dateObserved{hint}")
    return parse_date_time(doc[alternative], alternative)


def _not_text(value: Any) -> datetime:
    if type(value) is int:
        try:
            return _EPOCH + timedelta(milliseconds=value)
        except OverflowError as exc:
            raise _bad("epoch ms out of range") from exc
    raise TelemetryRejected(RejectReason.WRONG_TYPE,
                            "dateObserved must be ISO 8601 text or epoch milliseconds")


def observed_at(doc: dict[str, Any], received_at: datetime, intervals: bool = False,
                alternative: str | None = None) -> datetime:
    """The reading's observation instant (UTC): `dateObserved`, or `alternative` without it.

    `intervals`: `dateObserved` may be an ISO 8601 interval (TrafficFlowObserved); its end is
    the instant, since a count over a period is known when the period ends.
    """
    value = doc.get("dateObserved")
    if type(value) is str:  # the hot path, inline: an instant with an offset
        try:
            observed = datetime.fromisoformat(value)
        except ValueError:
            observed = _unusual(doc, value, intervals)
        if observed.tzinfo is None:
            raise _naive(value, "dateObserved")
        try:
            observed = observed.astimezone(UTC)
        except OverflowError as exc:
            raise _bad(f"dateObserved {value[:40]!r} is out of range") from exc
    elif value is None:
        observed = _alternative(doc, alternative)
    else:
        observed = _not_text(value)
    if observed < _EPOCH:
        raise _bad(f"{observed.isoformat()} is before 1970")
    if observed - received_at > MAX_FUTURE:
        raise TelemetryRejected(RejectReason.FUTURE_TIMESTAMP,
                                f"{observed.isoformat()} is ahead of {received_at.isoformat()}")
    return observed
