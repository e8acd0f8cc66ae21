"""Recorded feeds: JSON Lines of {"at", "topic", "payload" | "payload_b64"}, optionally gzipped."""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import orjson

from ioc.core.errors import IocError

__all__ = [
    "FeedError",
    "FeedMessage",
    "FeedWriter",
    "decode_line",
    "encode_line",
    "open_feed",
    "read_feed",
]


class FeedError(IocError):
    """A feed file cannot be read or a line of it is not a feed message."""


@dataclass(frozen=True, slots=True)
class FeedMessage:
    """One recorded MQTT message: seconds since the feed's start, topic and exact bytes."""

    at: float
    topic: str
    payload: bytes


def open_feed(path: Path, mode: str) -> IO[bytes]:
    """Open a feed file for "r" or "w" as bytes (gzip when the name ends with .gz)."""
    if path.suffix == ".gz":
        return gzip.open(path, mode + "b", compresslevel=5)  # type: ignore[return-value]
    return path.open(mode + "b")


def encode_line(message: FeedMessage) -> bytes:
    """One feed line (with newline) for a message."""
    record: dict[str, Any] = {"at": round(message.at, 6), "topic": message.topic}
    try:
        record["payload"] = message.payload.decode("utf-8")
    except UnicodeDecodeError:
        record["payload_b64"] = base64.b64encode(message.payload).decode("ascii")
    return orjson.dumps(record) + b"\n"


def decode_line(line: bytes, where: str = "") -> FeedMessage:
    """Parse one feed line; FeedError says where it is broken."""
    try:
        record = orjson.loads(line)
        if "payload" in record:
            payload = record["payload"].encode("utf-8")
        else:
            payload = base64.b64decode(record["payload_b64"], validate=True)
        return FeedMessage(float(record["at"]), str(record["topic"]), payload)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise FeedError(f"{where}: not a feed message: {exc}") from exc


def read_feed(path: str | Path) -> Iterator[FeedMessage]:
    """Messages of a feed file in file order (gzip when the name ends with .gz)."""
    path = Path(path)
    try:
        with open_feed(path, "r") as fh:
            for number, line in enumerate(fh, 1):
                if line.strip():
                    yield decode_line(line, f"{path}:{number}")
    except (OSError, EOFError) as exc:
        raise FeedError(f"cannot read feed {path}: {exc}") from exc


class FeedWriter:
    """Writes feed lines; use as a context manager. `at` is relative to the first message
    unless `origin` (epoch seconds of the feed's start) is given."""

    def __init__(self, path: str | Path, origin: float | None = None) -> None:
        self.path = Path(path)
        self.origin = origin
        self.count = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open_feed(self.path, "w")
        except OSError as exc:
            raise FeedError(f"cannot write feed {self.path}: {exc}") from exc

    def write(self, at: float, topic: str, payload: bytes) -> None:
        """Append one message `at` seconds since the feed's start."""
        self._fh.write(encode_line(FeedMessage(at, topic, payload)))
        self.count += 1

    def write_at(self, epoch_s: float, topic: str, payload: bytes) -> None:
        """Append a message stamped with absolute epoch seconds (first one sets the origin)."""
        if self.origin is None:
            self.origin = epoch_s
        self.write(epoch_s - self.origin, topic, payload)

    def close(self) -> None:
        """Flush and close the file."""
        self._fh.close()

    def __enter__(self) -> FeedWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
