"""Replay helpers: where a feed starts and ends, and shifting dateObserved to the present."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import orjson

from ioc.core.feed import FeedMessage, read_feed

__all__ = ["feed_span", "shift_delta", "shift_feed", "shift_payload"]


def _observed_epoch(payload: bytes) -> float | None:
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    value = doc.get("dateObserved") if isinstance(doc, dict) else None
    if type(value) is int:
        return value / 1000.0
    if isinstance(value, str):
        try:
            observed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return observed.timestamp() if observed.tzinfo else None
    return None


def feed_span(path: str | Path) -> tuple[float | None, float]:
    """(epoch seconds of the feed's start from its first dated reading, last `at`)."""
    origin: float | None = None
    last_at = 0.0
    for message in read_feed(path):
        last_at = max(last_at, message.at)
        if origin is None:
            observed = _observed_epoch(message.payload)
            if observed is not None:
                origin = observed - message.at
    return origin, last_at


def shift_delta(origin: float, span_s: float, now: float, speed: float | None) -> float:
    """Seconds to add to every dateObserved so the feed looks live.

    At speed 1 the feed starts now. Faster replays are shifted further back so that no
    reading is stamped later than the wall-clock moment it is published (which the
    contract would reject as a future timestamp); at `max` the feed ends now.
    """
    compression = 1.0 - (1.0 / speed if speed else 0.0)
    return now - origin - span_s * max(0.0, compression)


def shift_payload(payload: bytes, delta_s: float) -> bytes:
    """The payload with dateObserved moved by delta_s; anything unparseable is left alone."""
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return payload
    if not isinstance(doc, dict):
        return payload
    value = doc.get("dateObserved")
    if type(value) is int:
        doc["dateObserved"] = value + round(delta_s * 1000)
    elif isinstance(value, str):
        try:
            observed = datetime.fromisoformat(value)
        except ValueError:
            return payload
        if observed.tzinfo is None:
            return payload
        doc["dateObserved"] = (observed + timedelta(seconds=delta_s)).isoformat(
            timespec="milliseconds")
    else:
        return payload
    return orjson.dumps(doc)


def shift_feed(messages: Iterator[FeedMessage], delta_s: float) -> Iterator[FeedMessage]:
    """Messages with every dateObserved shifted by delta_s."""
    for m in messages:
        yield FeedMessage(m.at, m.topic, shift_payload(m.payload, delta_s))
