"""Rule state as records and back: every rule state type, whole detector states, bad records."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from ioc.core.registry import Registry
from ioc.processors import state_codec
from ioc.processors.detector import Detector
from ioc.processors.rule_state import Dirty, RuleState
from ioc.processors.rules.base import ACTIVE, Hold, RuleSettings
from ioc.processors.rules.catalog import LOCALIZED, STORES
from ioc.processors.rules.flood import LevelState, LocalizedState, RiseState
from ioc.processors.rules.silence import SilentState
from ioc.processors.rules.streetlight import CircuitState, LampState
from ioc.processors.rules.traffic import TrafficState
from ioc.processors.state_codec import decode_state, encode_state, load_records, records_of
from ioc.testing.factories import ScenarioFeed, at, drain, drainage_device, lamp, lamp_device
from ioc.testing.factories import registry as make_registry

# one value of every rule state type, every field away from its default
STATES: list[Any] = [
    LevelState("critical", 12.5, 3, True),
    RiseState(((1.0, 0.5), (61.0, 0.62), (121.0, 0.7)), Hold(True, 30.0), "high"),
    LocalizedState({"d1": (5.0, True), "d2": (6.5, False)}, Hold(False, 9.0), "critical", 5.0),
    TrafficState(Hold(True, 17.25)),
    LampState(Hold(True, None), Hold(False, 7.0), ACTIVE),
    CircuitState({"l1": 3.0, "l2": 4.5}, Hold(True, 4.0), 3.0),
    SilentState(5.0, 1.0, True),
]


def test_every_rule_state_type_is_covered() -> None:
    assert {type(s) for s in STATES} == {store.new for store in STORES}


@pytest.mark.parametrize("state", STATES, ids=lambda s: type(s).__name__)
def test_rule_state_round_trips(state: Any) -> None:
    back = decode_state(type(state), orjson.loads(encode_state(state)))
    assert back == state and type(back) is type(state)
    assert decode_state(type(state), orjson.loads(encode_state(type(state)()))) == type(state)()


def test_windows_checkpointed_as_lists_before_they_were_keyed_by_device_still_load() -> None:
    old = {"members": [["d1", 5.0, True], ["d2", 6.5, False]], "hold": {"active": True,
                                                                         "since": None}}
    back = decode_state(LocalizedState, old)
    assert list(back.members.items()) == [("d1", (5.0, True)), ("d2", (6.5, False))]
    assert back.oldest == 0.0  # unknown: the next step looks at every member once
    circuit = decode_state(CircuitState, {"failing": [["l1", 3.0], ["l2", 4.5]]})
    assert circuit.failing == {"l1": 3.0, "l2": 4.5}
    with pytest.raises(ValueError, match="members"):
        decode_state(LocalizedState, {"members": {"d1": [5.0, "yes"]}})


def test_decode_rejects_what_is_not_the_type() -> None:
    with pytest.raises(ValueError, match="unknown fields"):
        decode_state(LevelState, {"severity": "high", "colour": "red"})
    with pytest.raises(ValueError, match="severity"):
        decode_state(LevelState, {"severity": "purple"})
    with pytest.raises(ValueError, match="samples"):
        decode_state(RiseState, {"samples": [[1.0, "x"]]})
    with pytest.raises(ValueError, match="hold"):
        decode_state(TrafficState, {"hold": True})
    with pytest.raises(ValueError, match="not a list or an object"):
        decode_state(LevelState, "high")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="5 values for 4 fields"):
        decode_state(LevelState, ["high", None, 0, True, "extra"])
    with pytest.raises(ValueError, match="hold"):
        decode_state(TrafficState, [3])
    with pytest.raises(ValueError, match=r"Hold\.since"):
        decode_state(TrafficState, [[True, "soon"]])


@pytest.mark.parametrize("state", STATES, ids=lambda s: type(s).__name__)
def test_states_are_written_positionally_and_field_named_ones_still_load(state: Any) -> None:
    positional, named = encode_state(state), orjson.dumps(state)  # named: checkpoints before
    assert isinstance(orjson.loads(positional), list) and len(positional) < len(named)
    assert decode_state(type(state), orjson.loads(named)) == state


def test_a_shorter_positional_list_leaves_the_later_fields_at_their_defaults() -> None:
    assert decode_state(LevelState, ["high"]) == LevelState("high")


def _everything(state: RuleState) -> Dirty:
    return Dirty(set(state.owner_of), set(state.stores[LOCALIZED]), set(state.circuit_ward),
                 set(state.clock), set(state.commands))


def _view(state: RuleState) -> tuple[Any, ...]:
    return (state.last, {s: dict(v) for s, v in state.stores.items()}, state.signalling,
            state.clock, state.ticked, {o: list(c) for o, c in state.commands.items()})


def test_a_whole_detector_state_round_trips(flood_feed: ScenarioFeed) -> None:
    reg = Registry(flood_feed.catalog)
    det = Detector(reg, RuleSettings(silent_unseen=False), owner_tick_s=30.0)
    for r in flood_feed.readings[:12_000]:  # into the storm: windows, holds, ward windows
        det.process(r)
    det.state.remember_command("tan-phu", "cmd-1")
    assert any(det.state.stores[s] for s in STORES if s.new is LocalizedState)
    records = records_of(det.state, _everything(det.state))
    fresh = RuleState(reg)
    assert load_records(fresh, [(k, v) for _, k, v in records]) == 0
    assert _view(fresh) == _view(det.state)


def test_records_written_with_field_names_still_load(flood_feed: ScenarioFeed,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    reg = Registry(flood_feed.catalog)
    det = Detector(reg, RuleSettings(silent_unseen=False), owner_tick_s=30.0)
    for r in flood_feed.readings[:12_000]:
        det.process(r)
    positional = records_of(det.state, _everything(det.state))
    # without the option orjson writes dataclasses itself, as checkpoints did before
    monkeypatch.setattr(state_codec, "_DATACLASS_AS_LIST", 0)
    named = records_of(det.state, _everything(det.state))
    assert sum(b'"active":' in v for _, _, v in named) > len(named) // 2
    assert sum(map(len, (v for _, _, v in positional))) < sum(map(len, (v for _, _, v in named)))
    fresh = RuleState(reg)
    assert load_records(fresh, [(k, v) for _, k, v in named]) == 0
    assert _view(fresh) == _view(det.state)


def test_records_carry_their_owner_and_only_changed_keys() -> None:
    reg = make_registry(drainage_device("a1"), lamp_device("l1", circuit="c9", ward="tan-xuan"),
                        lamp_device("l2", circuit="c9", ward="tan-binh"))
    det = Detector(reg, RuleSettings(silent_unseen=False), owner_tick_s=30.0)
    det.state.take_dirty()
    det.process(drain("a1", at(0), 0.3))
    det.process(lamp("l2", at(0), "off", 0.0))
    owners = {k: o for o, k, _ in records_of(det.state, det.state.take_dirty())}
    assert owners == {b"d:a1": "tan-phu", b"o:tan-phu": "tan-phu",
                      b"d:l2": "tan-xuan", b"o:tan-xuan": "tan-xuan"}  # l2's circuit's ward
    assert not det.state.dirty


def test_an_unreadable_record_costs_only_its_subject(caplog: pytest.LogCaptureFixture) -> None:
    reg = make_registry(drainage_device("a1"), drainage_device("a2"))
    det = Detector(reg)
    det.process(drain("a1", at(0), 0.3))
    det.process(drain("a2", at(0), 0.3))
    good = [(k, v) for _, k, v in records_of(det.state, det.state.take_dirty())]
    bad = [(b"d:a2", b"{not json"), (b"w:tan-phu", b'{"members": 3}'), (b"z:x", b"[]")]
    fresh = RuleState(reg)
    assert load_records(fresh, [r for r in good if r[0] != b"d:a2"] + bad) == 3
    assert fresh.last == {"a1": det.state.last["a1"]}
    assert "skipping unreadable state record" in caplog.text
