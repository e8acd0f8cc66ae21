"""The worker's internal envelope: round trips, the hot path's bytes, and what it refuses."""

from __future__ import annotations

import orjson
import pytest

from ioc.core.envelope import Kind, decode, encode, wrap_reading

VALUES = {
    Kind.READING: {"deviceId": "d1", "waterLevel": 0.7, "dateObserved": "2025-06-02T03:00:00Z"},
    Kind.COMMAND: {"alertId": "flood.level:d1:20250602T030000Z", "action": "acknowledge"},
    Kind.STATUS: {"device": "d1", "status": "offline", "at": 1748833200.5},
}


@pytest.mark.parametrize("kind", list(Kind))
def test_encode_decode_round_trip(kind: Kind) -> None:
    raw = encode(kind, VALUES[kind])
    assert decode(raw) == (kind, VALUES[kind])
    assert raw == orjson.dumps({"k": kind.value, "v": VALUES[kind]})  # the wire format


def test_wrapped_reading_is_the_encoded_reading() -> None:
    reading = orjson.dumps(VALUES[Kind.READING])
    assert wrap_reading(reading) == encode(Kind.READING, VALUES[Kind.READING])
    assert wrap_reading(reading) == b'{"k":"r","v":' + reading + b"}"


@pytest.mark.parametrize("raw", [b"[1]", b'{"k":"x","v":1}', b'{"v":1}', b'{"k":["r"]}', b"{"])
def test_decode_refuses_what_is_no_envelope(raw: bytes) -> None:
    with pytest.raises(ValueError):
        decode(raw)
