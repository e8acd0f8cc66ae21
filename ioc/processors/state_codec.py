"""Rule state as key/value records (JSON via orjson), one per changed subject, and back.

A rule-state dataclass is written as the list of its field values in declaration order
(positional: about half the bytes and the time of orjson's own field-named objects, which
checkpoints before 2026-12 hold and which still load). Fields added at the end of a class
take their defaults when an older, shorter list is read.

Keys name a subject by kind: `d:<device>` holds every per-device store of the catalog plus
the device's newest reading time and whether it feeds its ward's or circuit's rule;
`w:<ward>` a flood.localized window; `c:<circuit>` a circuit-outage window; `o:<owner>` the
owner's event clock and last tick; `k:<owner>` the operator command ids it has seen. Each
record belongs to one owner key (ward), so it can live on that owner's partition.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import fields
from functools import cache
from operator import attrgetter
from types import UnionType
from typing import Any, Literal, TypeVar, Union, cast, get_args, get_origin, get_type_hints

import orjson

from ioc.processors.rule_state import DEVICE_STORES, Dirty, RuleState
from ioc.processors.rules.base import Hold
from ioc.processors.rules.catalog import CIRCUIT, LOCALIZED

__all__ = ["Record", "decode_state", "encode_state", "load_record", "load_records",
           "record_owner", "records_of"]

log = logging.getLogger(__name__)

Record = tuple[str, bytes, bytes]  # (owner, key, value)
S = TypeVar("S")


_DATACLASS_AS_LIST = orjson.OPT_PASSTHROUGH_DATACLASS  # dataclasses go to `_positional`


def _values_getter(cls: type) -> Callable[[Any], tuple[Any, ...]]:
    """A function giving a dataclass's field values in declaration order (TypeError for a
    type that is not a dataclass, as orjson's `default` must)."""
    names = [f.name for f in fields(cls)]
    if len(names) == 1:
        only = names[0]
        return lambda obj: (getattr(obj, only),)
    return cast(Callable[[Any], tuple[Any, ...]], attrgetter(*names))


_GETTERS: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


def _positional(obj: Any) -> tuple[Any, ...]:
    get = _GETTERS.get(type(obj))
    if get is None:
        get = _GETTERS[type(obj)] = _values_getter(type(obj))
    return get(obj)


def encode_state(state: Any) -> bytes:
    """One rule-state dataclass (or a list of them, None for absent) as JSON, positional."""
    return orjson.dumps(state, default=_positional, option=_DATACLASS_AS_LIST)


def _check(hint: Any, value: Any) -> bool:
    """Whether a JSON value fits a rule-state field's type (the few kinds the rules use)."""
    origin, args = get_origin(hint), get_args(hint)
    if hint is Hold:
        return isinstance(value, Hold)
    if origin is Literal:
        return value in args
    if origin in (Union, UnionType):
        return any(_check(a, value) for a in args)
    if origin is dict:
        return isinstance(value, dict) and all(isinstance(k, str) and _check(args[1], v)
                                               for k, v in value.items())
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_check(args[0], v) for v in value)
        return len(args) == len(value) and all(map(_check, args, value))
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return value is None if hint is type(None) else isinstance(value, hint)


def _deep_tuple(value: Any) -> Any:
    return tuple(_deep_tuple(v) for v in value) if isinstance(value, list) else value


def _window(value: Any) -> Any:
    """A group window keyed by device; a list of [device, *entry] is the older form."""
    if isinstance(value, list):
        pairs = [(e[0], e[1:] if len(e) > 2 else e[1]) for e in value
                 if isinstance(e, list) and len(e) >= 2]
        value = dict(pairs) if len(pairs) == len(value) else value
    return {k: _deep_tuple(v) for k, v in value.items()} if isinstance(value, dict) else value


def _hold(value: Any) -> Hold:
    if not isinstance(value, list | dict):
        raise ValueError("hold: not a list or an object")
    return decode_state(Hold, value)


@cache
def _fields(cls: type) -> dict[str, tuple[Any, Callable[[Any], Any] | None]]:
    """Per field of a rule-state dataclass: its type, and how its JSON form becomes it."""
    hints = get_type_hints(cls)
    out: dict[str, tuple[Any, Callable[[Any], Any] | None]] = {}
    for f in fields(cls):
        hint = hints[f.name]
        origin = get_origin(hint)
        conv = (_hold if hint is Hold else _deep_tuple if origin is tuple
                else _window if origin is dict else None)
        out[f.name] = (hint, conv)  # JSON arrays come back as lists: tuples again
    return out


def decode_state(cls: type[S], data: list[Any] | dict[str, Any]) -> S:
    """A rule-state dataclass from its JSON list (positional) or object (field names);
    ValueError if it is not one."""
    spec = _fields(cast(type, cls))
    if isinstance(data, list):
        if len(data) > len(spec):
            raise ValueError(f"{cls.__name__}: {len(data)} values for {len(spec)} fields")
        data = dict(zip(spec, data, strict=False))  # a shorter list: later fields default
    elif not isinstance(data, dict):
        raise ValueError(f"{cls.__name__}: not a list or an object")
    if data.keys() - spec.keys():
        raise ValueError(f"{cls.__name__}: unknown fields {sorted(data.keys() - spec.keys())}")
    values = {}
    for name, value in data.items():
        hint, conv = spec[name]
        values[name] = conv(value) if conv is not None else value
        if not _check(hint, values[name]):
            raise ValueError(f"{cls.__name__}.{name}: {str(value)[:40]} is not {hint}")
    return cls(**values)


def records_of(state: RuleState, dirty: Dirty) -> list[Record]:
    """The records of every changed key, each with its owner."""
    out: list[Record] = []
    owner_of, wards, circuits = state.owner_of, state.stores[LOCALIZED], state.stores[CIRCUIT]
    # a device record per reading under load: its lookups bound once per checkpoint
    last, signalling, dumps = state.last.get, state.signalling, orjson.dumps
    stores = [state.stores[s].get for s in DEVICE_STORES]
    for device in dirty.devices:
        out.append((owner_of[device], b"d:" + device.encode(),
                    dumps([last(device), device in signalling, *[get(device) for get in stores]],
                          default=_positional, option=_DATACLASS_AS_LIST)))
    for ward in dirty.wards & wards.keys():
        out.append((ward, b"w:" + ward.encode(), encode_state(wards[ward])))
    for circuit in dirty.circuits & circuits.keys():
        out.append((state.circuit_ward[circuit], b"c:" + circuit.encode(),
                    encode_state(circuits[circuit])))
    for owner in dirty.clocks:
        out.append((owner, b"o:" + owner.encode(),
                    orjson.dumps([state.clock.get(owner), state.ticked.get(owner)])))
    for owner in dirty.commands:
        out.append((owner, b"k:" + owner.encode(),
                    orjson.dumps(list(state.commands.get(owner, ())))))
    return out


def _load_device(state: RuleState, device: str, doc: Any) -> None:
    if device not in state.owner_of:
        return  # no longer in the registry
    last, signalling, *stores = doc
    if last is not None:
        state.last[device] = float(last)
    (state.signalling.add if signalling else state.signalling.discard)(device)
    for store, value in zip(DEVICE_STORES, stores, strict=True):
        if value is not None:
            state.stores[store][device] = decode_state(cast(type, store.new), value)


def _load_owner(state: RuleState, kind: str, owner: str, doc: Any) -> None:
    if kind == "o":
        clock, ticked = doc
        for per_owner, value in ((state.clock, clock), (state.ticked, ticked)):
            if value is not None:
                per_owner[owner] = float(value)
    else:
        state.commands[owner] = OrderedDict.fromkeys(str(c) for c in doc)


def load_record(state: RuleState, key: bytes, value: bytes) -> bool:
    """Load one record into `state`; False (logged) if it cannot be read, so that one bad
    record costs only its subject's state."""
    try:
        kind, _, subject = key.decode().partition(":")
        doc = orjson.loads(value)
        if kind == "d":
            _load_device(state, subject, doc)
        elif kind == "w":
            state.stores[LOCALIZED][subject] = decode_state(cast(type, LOCALIZED.new), doc)
        elif kind == "c" and subject in state.circuit_ward:
            state.stores[CIRCUIT][subject] = decode_state(cast(type, CIRCUIT.new), doc)
        elif kind in ("o", "k"):
            _load_owner(state, kind, subject, doc)
        elif kind != "c":
            raise ValueError(f"unknown record kind {kind!r}")
    except (ValueError, TypeError) as exc:  # orjson's and UnicodeDecodeError are ValueErrors
        log.warning("skipping unreadable state record %r: %s", key[:80], str(exc)[:200])
        return False
    return True


def record_owner(state: RuleState, key: bytes) -> str | None:
    """The owner key a record's subject belongs to now, by `state`'s registry; None if the
    registry no longer knows it."""
    kind, _, subject = key.decode(errors="replace").partition(":")
    if kind == "d":
        return state.owner_of.get(subject)
    if kind == "c":
        return state.circuit_ward.get(subject)
    return subject if kind in ("w", "o", "k") else None


def load_records(state: RuleState, records: Iterable[tuple[bytes, bytes]]) -> int:
    """Load records; returns how many could not be read."""
    return sum(not load_record(state, key, value) for key, value in records)
