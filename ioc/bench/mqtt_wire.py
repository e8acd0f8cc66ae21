"""The few MQTT 5 packets a load generator needs, encoded and decoded by hand: CONNECT,
CONNACK, QoS 1 PUBLISH, PUBACK, PINGREQ. Pure functions over bytes, no sockets.

The bench publishes from the machine it measures, so the load generator's CPU is taken
from the pipeline: paho costs 1.2-1.8 CPU-s per 10k messages (its queue, lock, thread
hand-off and callback per message); the soak with these packets about 0.6 in all.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from ioc.ingest.mqtt_packets import read_varint

__all__ = ["PINGREQ", "Connack", "MqttWireError", "PubackReader", "connect_packet",
           "packet_size", "parse_connack", "publish_packet", "varint"]

PINGREQ: Final = b"\xc0\x00"
_PUBACK, _CONNACK, _PINGRESP, _DISCONNECT = 0x40, 0x20, 0xD0, 0xE0
_RECEIVE_MAXIMUM: Final = 0x21
# CONNACK properties by id: their value's size in bytes, or a kind of variable length
_FIXED = {0x11: 4, 0x13: 2, 0x21: 2, 0x22: 2, 0x24: 1, 0x25: 1, 0x27: 4, 0x28: 1, 0x29: 1,
          0x2A: 1}
_STRING = {0x12, 0x15, 0x16, 0x1A, 0x1C, 0x1F}  # strings and binary data: 2-byte length
_PAIR = 0x26  # user property: two strings


class MqttWireError(Exception):
    """A packet the broker sent that this client cannot accept (refusal, disconnect)."""


def varint(n: int) -> bytes:
    """MQTT's variable byte integer (remaining lengths, property lengths)."""
    if not 0 <= n <= 268_435_455:
        raise ValueError(f"{n} does not fit an MQTT variable byte integer")
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _string(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("!H", len(raw)) + raw


def connect_packet(client_id: str, username: str, password: str, keepalive_s: int) -> bytes:
    """CONNECT (MQTT 5, clean start, user name and password, no properties, no will)."""
    body = (_string("MQTT") + bytes([5, 0xC2]) + struct.pack("!H", keepalive_s) + b"\x00"
            + _string(client_id) + _string(username) + _string(password))
    return b"\x10" + varint(len(body)) + body


def publish_packet(topic: bytes, payload: bytes, packet_id: int) -> bytes:
    """PUBLISH at QoS 1, no properties; `topic` as UTF-8 bytes, `packet_id` 1..65535."""
    body_len = 2 + len(topic) + 3 + len(payload)
    return b"".join((b"\x32", varint(body_len), struct.pack("!H", len(topic)), topic,
                     struct.pack("!HB", packet_id, 0), payload))


@dataclass(frozen=True, slots=True)
class Connack:
    """The broker's answer to CONNECT."""

    reason: int
    receive_maximum: int = 65_535  # QoS 1 publishes it takes unacknowledged at a time


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    """A variable byte integer at `at`: (value, index after it); IndexError if cut short."""
    try:
        return read_varint(data, at)
    except ValueError as exc:
        raise MqttWireError("malformed variable byte integer") from exc


def packet_size(data: bytes, at: int = 0) -> int | None:
    """The size of the packet starting at `at`, fixed header included (None while its
    remaining length is still cut short)."""
    try:
        length, body = _read_varint(data, at + 1)
    except IndexError:
        return None
    return body - at + length


def parse_connack(packet: bytes) -> Connack:
    """A whole CONNACK packet (fixed header included)."""
    if not packet or packet[0] != _CONNACK:
        raise MqttWireError(f"expected CONNACK, got packet type {packet[:1].hex() or 'none'}")
    length, at = _read_varint(packet, 1)
    reason = packet[at + 1]
    receive_maximum = 65_535
    if length > 2:
        props_len, at = _read_varint(packet, at + 2)
        end = at + props_len
        while at < end:
            prop = packet[at]
            at += 1
            if prop in _FIXED:
                if prop == _RECEIVE_MAXIMUM:
                    receive_maximum = struct.unpack_from("!H", packet, at)[0]
                at += _FIXED[prop]
            elif prop in _STRING:
                at += 2 + struct.unpack_from("!H", packet, at)[0]
            elif prop == _PAIR:
                for _ in range(2):
                    at += 2 + struct.unpack_from("!H", packet, at)[0]
            else:
                raise MqttWireError(f"unknown CONNACK property 0x{prop:02x}")
    return Connack(reason, receive_maximum)


class PubackReader:
    """Splits the bytes a broker sends into packets and counts PUBACKs (a reason code
    of 0x80 or more is a refusal, e.g. 0x87 not authorized by the ACL)."""

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, data: bytes) -> tuple[int, int]:
        """Take received bytes; returns (PUBACKs, refusals among them) in the whole packets
        they complete. Raises MqttWireError on DISCONNECT or an unexpected packet."""
        buf = self._buf + data if self._buf else data
        acked = refused = at = 0
        size = len(buf)
        while (whole := packet_size(buf, at)) is not None and at + whole <= size:
            kind = buf[at]
            length, body = _read_varint(buf, at + 1)
            if kind == _PUBACK:
                acked += 1
                if length > 2 and buf[body + 2] >= 0x80:
                    refused += 1
            elif kind == _DISCONNECT:
                reason = buf[body] if length else 0
                raise MqttWireError(f"the broker disconnected us (reason 0x{reason:02x})")
            elif kind != _PINGRESP:
                raise MqttWireError(f"unexpected packet type 0x{kind:02x}")
            at = body + length
        self._buf = buf[at:]
        return acked, refused
