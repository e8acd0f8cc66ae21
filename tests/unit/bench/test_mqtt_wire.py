"""The hand-built MQTT 5 packets of the soak's publisher, checked against the spec's layout
by an independent decoding here."""

from __future__ import annotations

import struct

import pytest

from ioc.bench.mqtt_wire import (
    MqttWireError,
    PubackReader,
    connect_packet,
    packet_size,
    parse_connack,
    publish_packet,
    varint,
)


@pytest.mark.parametrize(("n", "encoded"), [
    (0, "00"), (127, "7f"), (128, "8001"), (16_383, "ff7f"), (16_384, "808001"),
    (2_097_151, "ffff7f"), (268_435_455, "ffffff7f")])
def test_varint_matches_the_spec_table(n: int, encoded: str) -> None:
    assert varint(n).hex() == encoded


def test_varint_refuses_what_does_not_fit() -> None:
    with pytest.raises(ValueError):
        varint(268_435_456)


def _remaining(packet: bytes) -> tuple[int, bytes]:
    """Decode the remaining length; returns (length, body)."""
    value, shift, at = 0, 0, 1
    while True:
        byte = packet[at]
        value |= (byte & 0x7F) << shift
        at += 1
        if not byte & 0x80:
            return value, packet[at:]
        shift += 7


@pytest.mark.parametrize("size", [0, 20, 200, 20_000])
def test_a_publish_packet_decodes_to_what_was_sent(size: int) -> None:
    payload = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    packet = publish_packet(b"ioc/v1/drainage/d-1/telemetry", payload, 65_535)
    assert packet[0] == 0x32  # PUBLISH, QoS 1, no DUP, no RETAIN
    length, body = _remaining(packet)
    assert length == len(body)
    (topic_len,) = struct.unpack_from("!H", body)
    assert body[2:2 + topic_len] == b"ioc/v1/drainage/d-1/telemetry"
    packet_id, props = struct.unpack_from("!HB", body, 2 + topic_len)
    assert (packet_id, props) == (65_535, 0)
    assert body[2 + topic_len + 3:] == payload


def test_a_connect_packet_carries_the_login() -> None:
    packet = connect_packet("gw-1", "gw-user", "s3cret", 30)
    assert packet[0] == 0x10
    length, body = _remaining(packet)
    assert length == len(body)
    # protocol name, level 5, flags user+password+clean start, keep alive 30, no properties
    assert body[:11].hex() == "00044d51545405c2001e00"
    rest, fields = body[11:], []
    while rest:
        (n,) = struct.unpack_from("!H", rest)
        fields.append(rest[2:2 + n].decode())
        rest = rest[2 + n:]
    assert fields == ["gw-1", "gw-user", "s3cret"]


def test_a_connack_gives_its_reason_and_receive_maximum() -> None:
    user_prop = bytes([0x26]) + b"\x00\x01k\x00\x01v"
    reason_str = bytes([0x1F]) + b"\x00\x02ok"
    props = bytes([0x21, 0x03, 0xE8, 0x24, 0x01]) + user_prop + reason_str + bytes(
        [0x27, 0, 0, 0x44, 0])
    body = b"\x00\x00" + varint(len(props)) + props
    answer = parse_connack(b"\x20" + varint(len(body)) + body)
    assert (answer.reason, answer.receive_maximum) == (0, 1000)
    refused = parse_connack(b"\x20\x03\x00\x87\x00")
    assert (refused.reason, refused.receive_maximum) == (0x87, 65_535)
    with pytest.raises(MqttWireError, match="CONNACK"):
        parse_connack(b"\x30\x00")
    with pytest.raises(MqttWireError, match="property"):
        parse_connack(b"\x20\x05\x00\x00\x02\x7f\x00")


def test_pubacks_are_counted_across_any_split_of_the_stream() -> None:
    stream = (b"\x40\x02\x00\x01"            # success, reason code omitted
              + b"\xd0\x00"                  # PINGRESP
              + b"\x40\x03\x00\x02\x87"      # not authorized
              + b"\x40\x04\x00\x03\x10\x00"  # no matching subscribers (a success)
              + b"\x40\x02\x00\x04")
    for cut in range(len(stream) + 1):
        reader = PubackReader()
        first, second = reader.feed(stream[:cut]), reader.feed(stream[cut:])
        assert (first[0] + second[0], first[1] + second[1]) == (4, 1), cut


def test_a_disconnect_or_a_stray_packet_is_an_error() -> None:
    with pytest.raises(MqttWireError, match="0x97"):
        PubackReader().feed(b"\x40\x02\x00\x01\xe0\x01\x97")  # quota exceeded
    with pytest.raises(MqttWireError, match="unexpected"):
        PubackReader().feed(b"\x30\x00")


def test_packet_size_counts_the_fixed_header_and_waits_for_a_whole_length() -> None:
    packet = publish_packet(b"t", b"x" * 200, 1)  # remaining length 206: two bytes
    assert packet_size(packet) == len(packet)
    assert [packet_size(packet[:cut]) for cut in range(4)] == [None, None, None, len(packet)]
    assert packet_size(b"\x00" + packet, 1) == len(packet)
