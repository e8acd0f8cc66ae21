"""The bridge's paho fast paths: PUBLISH parsing without MQTTMessage, read-ahead, batched
PUBACKs; checked against paho's own packet encoder and decoder."""

from __future__ import annotations

import struct
from typing import Any

import pytest
from paho.mqtt import _packet
from paho.mqtt.client import MQTTv5
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ioc.bench.mqtt_wire import varint
from ioc.ingest.mqtt_packets import ReadAhead, split_publish, take_publishes


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
    topic, payload, mid = split_publish(bytearray(body), qos)
    reference = _packet.decode_publish(0x30 | (qos << 1), body, MQTTv5)
    assert (topic, payload, mid) == (reference.topic, reference.payload,
                                     reference.mid if qos else 0)
    assert isinstance(payload, bytes) and isinstance(topic, bytes)


def test_split_publish_without_properties_and_empty_payload() -> None:
    assert split_publish(_publish_body(b"a/b", b"", 1, 65535), 1) == (b"a/b", b"", 65535)


def test_truncated_publish_raises_for_paho_to_handle() -> None:
    with pytest.raises((struct.error, IndexError)):
        split_publish(b"\x00\x10ab", 1)


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

    def close(self) -> None:
        self.chunks = []


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


def _publish_packet(topic: bytes, payload: bytes, qos: int, mid: int,
                    props: Properties | None = None) -> bytes:
    body = _publish_body(topic, payload, qos, mid, props)
    return bytes([0x30 | (qos << 1)]) + varint(len(body)) + body


def test_take_publishes_parses_whole_packets_and_stops_before_a_partial_one() -> None:
    props = Properties(PacketTypes.PUBLISH)
    props.UserProperty = [("k", "v" * 200)]
    big = b"x" * 300  # a remaining length of two bytes
    packets = [_publish_packet(b"a/1", b"one", 1, 1), _publish_packet(b"a/2", big, 0, 0),
               _publish_packet(b"a/3", b"three", 1, 65535, props)]
    partial = _publish_packet(b"a/4", b"four", 1, 4)
    buf = b"".join(packets) + partial[:7]
    found, pos = take_publishes(buf, 0)
    assert found == [(b"a/1", b"one", 1, 1), (b"a/2", big, 0, 0), (b"a/3", b"three", 65535, 1)]
    assert pos == len(buf) - 7


@pytest.mark.parametrize("other", [b"\xd0\x00",  # PINGRESP
                                   b"\x34\x00",  # a QoS 2 PUBLISH: paho's
                                   b"\x32\x06\x00\x10ab\x00\x01",  # topic longer than packet
                                   b"\x30\xff\xff\xff\xff\x01"])  # length over 4 bytes
def test_take_publishes_leaves_everything_else_to_paho(other: bytes) -> None:
    first = _publish_packet(b"t", b"p", 1, 9)
    found, pos = take_publishes(first + other + first, 0)
    assert found == [(b"t", b"p", 9, 1)] and pos == len(first)


def test_client_fast_path_delivers_every_publish_across_chunks_in_order() -> None:
    from paho.mqtt.client import CallbackAPIVersion

    from ioc.ingest.mqtt_source import _Client

    packets = [_publish_packet(f"d/{i}".encode(), b"v" * (i % 7), 1, i + 1)
               for i in range(50)]
    stream = b"".join(packets[:20]) + b"\xd0\x00" + b"".join(packets[20:])
    chunks = [stream[i:i + 97] for i in range(0, len(stream), 97)]  # splits packets
    client = _Client(CallbackAPIVersion.VERSION2, protocol=MQTTv5, manual_ack=True)
    got: list[tuple[bytes, int]] = []
    client.on_publish_raw = lambda topic, payload, mid, qos: got.append((topic, mid))
    n_chunks = len(chunks)
    client._sock = ReadAhead(_Sock(chunks))
    slow = 0
    paho_path = client._handle_publish

    def counted() -> Any:
        nonlocal slow
        slow += 1
        return paho_path()

    client._handle_publish = counted  # type: ignore[method-assign]
    for _ in range(n_chunks + 5):
        client.loop_read()
    assert got == [(f"d/{i}".encode(), i + 1) for i in range(50)]
    # only a packet cut by a chunk's end goes through paho's byte-by-byte reader
    assert slow <= n_chunks
