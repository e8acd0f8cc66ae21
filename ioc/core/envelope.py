"""The worker's internal envelope: one owner-keyed record, `{"k": kind, "v": value}` as JSON.

The internal topic carries three kinds of message to the partition that owns their state; the
envelope says which one a record is. Compact keys on purpose: every re-keyed reading pays them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import orjson

__all__ = ["Kind", "decode", "encode", "wrap_reading"]


class Kind(StrEnum):
    """What an envelope carries."""

    READING = "r"  # a telemetry reading's JSON, as the bridge wrote it
    COMMAND = "c"  # an operator's alert command
    STATUS = "s"  # a device status: {"device", "status", "at" (epoch seconds)}


# a reading's envelope is these bytes around its JSON, so the worker re-keys a reading without
# parsing it again; equal to encode(Kind.READING, <the reading's document>)
_READING_PREFIX = b'{"k":"' + Kind.READING.value.encode() + b'","v":'
_READING_SUFFIX = b"}"
_KINDS = frozenset(k.value for k in Kind)


def encode(kind: Kind, value: Any) -> bytes:
    """The envelope of one value (anything orjson serializes)."""
    return orjson.dumps({"k": kind.value, "v": value})


def wrap_reading(reading_json: bytes) -> bytes:
    """A reading's envelope from its JSON bytes, without decoding them."""
    return _READING_PREFIX + reading_json + _READING_SUFFIX


def decode(raw: bytes) -> tuple[Kind, Any]:
    """The kind and value of an envelope; raises ValueError when it is not one."""
    env = orjson.loads(raw)  # orjson.JSONDecodeError is a ValueError
    if not isinstance(env, dict):
        raise ValueError("envelope is not a JSON object")
    kind = env.get("k")
    if not isinstance(kind, str) or kind not in _KINDS:
        raise ValueError(f"unknown envelope kind {kind!r}")
    return Kind(kind), env.get("v")
