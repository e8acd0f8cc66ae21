"""MQTT v5 packets as the bridge reads them, without paho: a read-ahead socket and the
PUBLISH parser its fast path uses (ioc.ingest.mqtt_source hands paho everything else)."""

from __future__ import annotations

import struct
from typing import Any

__all__ = ["Publish", "ReadAhead", "read_varint", "split_publish", "take_publishes"]

_U16 = struct.Struct("!H")

# (topic, payload, packet id, qos) of one PUBLISH
Publish = tuple[bytes, bytes, int, int]


class ReadAhead:
    """A socket whose recv() fetches up to 64 KiB at once and serves paho's many small reads
    (1 byte for the packet type, 1 per length byte, then the rest) from memory: one
    system call per burst of messages instead of three or more per message."""

    __slots__ = ("_buf", "_pos", "_sock")
    CHUNK = 64 * 1024

    def __init__(self, sock: Any) -> None:
        self._sock, self._buf, self._pos = sock, b"", 0

    @property
    def buffered(self) -> int:
        """Bytes read from the socket and not yet handed to paho."""
        return len(self._buf) - self._pos

    def recv(self, bufsize: int) -> bytes:
        """Up to `bufsize` bytes; b'' at end of stream; BlockingIOError when none ready."""
        if self._pos >= len(self._buf):
            data = self._sock.recv(self.CHUNK)
            if not data:
                return b""
            self._buf, self._pos = data, 0
        start = self._pos
        self._pos = min(start + bufsize, len(self._buf))
        return self._buf[start:self._pos]

    def take_publishes(self) -> list[Publish]:
        """Consume and return the whole QoS 0/1 PUBLISH packets at the head of the buffer."""
        found, self._pos = take_publishes(self._buf, self._pos)
        return found

    def pending(self) -> int:
        """Bytes readable without waiting (paho then skips the wait in select)."""
        inner = self._sock.pending() if hasattr(self._sock, "pending") else 0
        return self.buffered + int(inner)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def read_varint(buf: bytes | bytearray, pos: int, end: int | None = None) -> tuple[int, int]:
    """MQTT's variable byte integer at buf[pos] and the position after it; IndexError when
    it is cut short (at `end`), ValueError when it runs over 4 bytes."""
    end = len(buf) if end is None else end
    value, shift = 0, 0
    while True:
        if pos >= end:
            raise IndexError("variable byte integer cut short")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift > 21:
            raise ValueError("variable byte integer over 4 bytes")


def split_publish(packet: bytes | bytearray, qos: int, start: int = 0,
                   end: int | None = None) -> tuple[bytes, bytes, int]:
    """(topic, payload, packet id) of the MQTT v5 PUBLISH body in packet[start:end]; its
    properties are skipped (the bridge uses none; topic aliases are off: the bridge
    announces no alias maximum). IndexError, ValueError or struct.error when it does not
    parse."""
    end = len(packet) if end is None else end
    (length,) = _U16.unpack_from(packet, start)
    view = memoryview(packet)
    pos = start + 2 + length
    topic, mid = bytes(view[start + 2:pos]), 0
    if qos:
        if pos + 2 > end:
            raise IndexError("PUBLISH ends in its packet id")
        (mid,) = _U16.unpack_from(packet, pos)
        pos += 2
    props, pos = read_varint(packet, pos, end)  # the properties' length
    if pos + props > end:
        raise IndexError("PUBLISH ends in its properties")
    return topic, bytes(view[pos + props:end]), mid


def take_publishes(buf: bytes, pos: int) -> tuple[list[Publish], int]:
    """The whole QoS 0/1 PUBLISH packets from buf[pos:] on, parsed as (topic, payload, packet
    id, qos), and the position after the last; stops at any other packet, a partial one or
    one that does not parse, which paho's own reader then takes."""
    out: list[Publish] = []
    end = len(buf)
    while pos < end:
        command = buf[pos]
        qos = (command >> 1) & 3
        if command >> 4 != 3 or qos == 2 or qos == 3:
            break
        try:
            # partial, or a length over 4 bytes (paho reports that as a protocol error)
            length, at = read_varint(buf, pos + 1, end)
            if at + length > end:
                break
            topic, payload, mid = split_publish(buf, qos, at, at + length)
        except (struct.error, IndexError, ValueError):
            break
        out.append((topic, payload, mid, qos))
        pos = at + length
    return out, pos
