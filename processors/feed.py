"""A small reader of recorded JSON Lines feeds: {"at", "topic", "payload" | "payload_b64"}."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import orjson

__all__ = ["FeedLine", "parse_feed_line", "read_feed_lines"]


@dataclass(frozen=True, slots=True)
class FeedLine:
    """One recorded MQTT message, or the reason its line could not be read."""

    at: float
    topic: str
    payload: bytes
    error: str | None = None


def parse_feed_line(line: bytes | str) -> FeedLine:
    """Parse one feed line; a broken line comes back with `error` set instead of raising."""
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError:
        return FeedLine(0.0, "", b"", "bad_feed_line")
    if not isinstance(doc, dict) or not isinstance(doc.get("topic"), str):
        return FeedLine(0.0, "", b"", "bad_feed_line")
    at = doc.get("at")
    if not isinstance(at, int | float) or isinstance(at, bool):
        return FeedLine(0.0, doc["topic"], b"", "bad_feed_line")
    if isinstance(doc.get("payload"), str):
        return FeedLine(float(at), doc["topic"], doc["payload"].encode("utf-8"))
    try:
        payload = base64.b64decode(doc.get("payload_b64") or "", validate=True)
    except (binascii.Error, TypeError, ValueError):
        return FeedLine(float(at), doc["topic"], b"", "bad_feed_line")
    return FeedLine(float(at), doc["topic"], payload)


def read_feed_lines(lines: Iterable[bytes | str]) -> Iterator[FeedLine]:
    """Parse a feed's non-blank lines in order."""
    for line in lines:
        if line.strip():
            yield parse_feed_line(line)
