"""Feed lines for the backtest: like ioc.feed, but a broken line is counted, not fatal."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ioc.core.feed import FeedError, decode_line

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
        msg = decode_line(line.encode() if isinstance(line, str) else line)
    except FeedError:
        return FeedLine(0.0, "", b"", "bad_feed_line")
    return FeedLine(msg.at, msg.topic, msg.payload)


def read_feed_lines(lines: Iterable[bytes | str]) -> Iterator[FeedLine]:
    """Parse a feed's non-blank lines in order."""
    for line in lines:
        if line.strip():
            yield parse_feed_line(line)
