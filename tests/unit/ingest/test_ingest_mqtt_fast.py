"""The bridge's paho fast paths: PUBLISH parsing without MQTTMessage, read-ahead, batched
PUBACKs; checked against paho's own packet encoder and decoder."""

from __future__ import annotations

import struct

import pytest
from paho.mqtt import _packet
from paho.mqtt.client import MQTTv5
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ioc.ingest.mqtt_source import ReadAhead, _split_publish


def _publish_body(topic: bytes, payload: bytes, qos: int, mid: int,
                  props: Properties | None = None) -> bytes:
    body = struct.pack("!H", len(topic)) + topic
    if qos:
        body += struct.pack("!H", mid)
    body += props.pack() if props is not None else b"\x00"
    return body + payload


@pytest.mark.parametrize("qos", [0, 1])
def test_split_publish_matches_paho_decoder(qos: int) -> None:
    props = Properties(PacketTypes.PUBLISH)
    props.UserProperty = [("k", "v" * 200)]  # a properties length over one byte
    props.MessageExpiryInterval = 60
    body = _publish_body(b"ioc/v1/traffic/d-1/telemetry", b'{"seq": 7}', qos, 513, props)
    topic, payload, mid = _split_publish(bytearray(body), qos)
    reference = _packet.decode_publish(0x30 | (qos << 1), body, MQTTv5)
    assert (topic, payload, mid) == (reference.topic, reference.payload,
                                     reference.mid if qos else 0)
    assert isinstance(payload, bytes) and isinstance(topic, bytes)


def test_split_publish_without_properties_and_empty_payload() -> None:
    assert _split_publish(_publish_body(b"a/b", b"", 1, 65535), 1) == (b"a/b", b"", 65535)


def test_truncated_publish_raises_for_paho_to_handle() -> None:
    with pytest.raises((struct.error, IndexError)):
        _split_publish(b"\x00\x10ab", 1)


class _Sock:
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks, self.calls = chunks, 0

    def recv(self, size: int) -> bytes:
        self.calls += 1
        if not self.chunks:
            raise BlockingIOError
        return self.chunks.pop(0)[:size]

    def fileno(self) -> int:
        return 42


def test_read_ahead_serves_small_reads_from_one_recv() -> None:
    sock = _Sock([b"\x30\x05hello", b"!"])
    ahead = ReadAhead(sock)
    assert [ahead.recv(1), ahead.recv(1), ahead.recv(5)] == [b"\x30", b"\x05", b"hello"]
    assert sock.calls == 1 and ahead.pending() == 0
    assert ahead.recv(10) == b"!" and sock.calls == 2
    with pytest.raises(BlockingIOError):
        ahead.recv(1)
    assert ahead.fileno() == 42  # everything else is the socket's


def test_read_ahead_reports_what_is_buffered_as_pending() -> None:
    ahead = ReadAhead(_Sock([b"abcdef"]))
    assert ahead.recv(2) == b"ab"
    assert ahead.pending() == 4 and ahead.buffered == 4


def test_read_ahead_passes_end_of_stream_through() -> None:
    ahead = ReadAhead(_Sock([b""]))
    assert ahead.recv(1) == b""
