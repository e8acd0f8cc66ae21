"""flood.level, flood.rising and flood.localized through the Detector and the pure steps."""

from __future__ import annotations

from ioc.processors.detector import Detector
from ioc.processors.rules.base import RuleSettings, renew
from ioc.processors.rules.flood import (
    LevelState,
    LocalizedState,
    WardSignal,
    level_step,
    localized_step,
)
from ioc.testing.factories import at, drain, drainage_device, registry

S = RuleSettings()


def feed(det: Detector, dev: str, levels: list[float], start: float = 0, step: float = 60):
    out = []
    for i, level in enumerate(levels):
        out += det.process(drain(dev, at(start + i * step), level))
    return out


def test_level_opens_escalates_keeping_id_and_deescalates() -> None:
    det = Detector(registry(drainage_device("d1")))
    opened = feed(det, "d1", [0.3, 0.65])
    assert [(a.rule, a.severity, a.status, a.version) for a in opened] == [
        ("flood.level", "high", "open", 1)]
    esc = feed(det, "d1", [0.95], start=120)
    assert esc[0].id == opened[0].id and esc[0].severity == "critical" and esc[0].version == 2
    # below critical - margin (0.85) for the hold time steps down to high, same id
    down = feed(det, "d1", [0.7] * 12, start=180)
    assert [(a.id, a.severity, a.version) for a in down] == [(opened[0].id, "high", 3)]


def test_level_oscillating_around_threshold_opens_one_alert() -> None:
    det = Detector(registry(drainage_device("d1")))
    alerts = feed(det, "d1", [0.61, 0.58, 0.62, 0.57, 0.6, 0.59] * 5)
    level = [a for a in alerts if a.rule == "flood.level"]
    assert len(level) == 1 and level[0].status == "open"


def test_level_resolves_only_after_hold_below_margin() -> None:
    dev = drainage_device("d1")
    state, ch = level_step(LevelState(), drain(dev, at(0), 0.7), dev, S)
    assert ch[0].active
    state, ch = level_step(state, drain(dev, at(60), 0.5), dev, S)
    assert ch == []
    state, ch = level_step(state, drain(dev, at(60 + S.flood_hold_s - 1), 0.5), dev, S)
    assert ch == [] and state.severity == "high"
    # back above the clear level restarts the hold
    state, ch = level_step(state, drain(dev, at(60 + S.flood_hold_s), 0.57), dev, S)
    assert ch == [] and state.below_since is None
    state, ch = level_step(state, drain(dev, at(2000), 0.5), dev, S)
    state, ch = level_step(state, drain(dev, at(2000 + S.flood_hold_s), 0.5), dev, S)
    assert len(ch) == 1 and not ch[0].active and state.severity is None


def test_resolved_alert_carries_system_resolution() -> None:
    det = Detector(registry(drainage_device("d1")))
    alerts = feed(det, "d1", [0.7] + [0.4] * 12)
    assert [a.status for a in alerts] == ["open", "resolved"]
    assert alerts[1].resolved_by == "system" and alerts[1].id == alerts[0].id


def test_rising_estimates_time_to_overflow() -> None:
    det = Detector(registry(drainage_device("d1")))
    # +0.05 m per minute = 3 m/h; at 0.45 m with depth 1.2 m -> 15 minutes
    alerts = feed(det, "d1", [0.3, 0.35, 0.4, 0.45])
    rising = [a for a in alerts if a.rule == "flood.rising"]
    assert len(rising) == 1
    assert abs(rising[0].data["rateMetersPerHour"] - 3.0) < 1e-6
    assert abs(rising[0].data["minutesToOverflow"] - 15.0) < 0.1
    assert rising[0].severity == "high"


def test_rising_needs_sustained_rise() -> None:
    det = Detector(registry(drainage_device("d1")))
    alerts = feed(det, "d1", [0.3, 0.5, 0.3, 0.5, 0.3, 0.5])  # noisy, not rising
    assert [a for a in alerts if a.rule == "flood.rising"] == []


def test_rising_in_a_nearly_empty_drain_is_not_an_alert() -> None:
    det = Detector(registry(drainage_device("d1")))  # warn 0.6 m: rises count from 0.3 m
    alerts = feed(det, "d1", [0.05, 0.10, 0.15, 0.20, 0.25])  # 3 m/h, but far from warning
    assert [a for a in alerts if a.rule == "flood.rising"] == []
    alerts = feed(det, "d1", [0.30, 0.35, 0.40], start=300)
    assert [a.rule for a in alerts if a.rule == "flood.rising"] == ["flood.rising"]


def _two_wards() -> Detector:
    return Detector(registry(drainage_device("a1"), drainage_device("a2"),
                             drainage_device("b1", ward="tan-dong")))


def test_single_spike_does_not_raise_localized() -> None:
    det = _two_wards()
    alerts = feed(det, "a1", [0.3, 0.8, 0.3]) + feed(det, "a2", [0.3, 0.3, 0.3])
    assert [a for a in alerts if a.rule == "flood.localized"] == []
    # one spike each on two sensors of the ward is still not localized flooding
    alerts = feed(det, "a2", [0.8, 0.3], start=600)
    assert [a for a in alerts if a.rule == "flood.localized"] == []


def test_two_sensors_in_warning_raise_localized_for_their_ward_only() -> None:
    det = _two_wards()
    alerts = feed(det, "a1", [0.7, 0.7, 0.7]) + feed(det, "b1", [0.7, 0.7], start=10)
    alerts += feed(det, "a2", [0.65, 0.7], start=20)
    loc = [a for a in alerts if a.rule == "flood.localized"]
    assert [(a.subject, a.ward, a.severity, a.status) for a in loc] == [
        ("tan-phu", "tan-phu", "high", "open")]
    assert loc[0].data["sensors"] == ["a1", "a2"]
    # a sensor going critical escalates the same ward alert
    esc = [a for a in feed(det, "a2", [1.0], start=300) if a.rule == "flood.localized"]
    assert esc[0].id == loc[0].id and esc[0].severity == "critical"


def test_localized_clears_after_window_and_hold_on_ticks() -> None:
    det = _two_wards()
    feed(det, "a1", [0.7, 0.7])
    opened = [a for a in feed(det, "a2", [0.7, 0.7], start=10) if a.rule == "flood.localized"]
    assert opened
    # sensors stop reporting; members fall out of the window, then the hold must pass
    t_out = 70 + S.localized_window_s + 1
    assert [a for a in det.tick(at(t_out).timestamp()) if a.rule == "flood.localized"] == []
    done = [a for a in det.tick(at(t_out + S.localized_hold_s).timestamp())
            if a.rule == "flood.localized"]
    assert [(a.id, a.status) for a in done] == [(opened[0].id, "resolved")]


def test_renew_replaces_or_drops_only_that_devices_entry() -> None:
    window = {"a": 1.0, "b": 2.0}
    renewed = renew(window, "a", 5.0)
    assert list(renewed.items()) == [("b", 2.0), ("a", 5.0)]  # the renewed entry moves last
    assert renew(window, "b", None) == {"a": 1.0}
    assert renew(window, "c", None) == window
    assert window == {"a": 1.0, "b": 2.0}  # a copy: states are values


def test_a_member_renewed_out_of_order_still_leaves_the_window_on_time() -> None:
    # readings of different sensors arrive out of event-time order: the window must drop
    # exactly the members older than its span, whatever order they came in
    state = LocalizedState()
    for device, t in (("a", 1000.0), ("b", 400.0), ("c", 1100.0)):
        state, _ = localized_step(state, WardSignal(device, "tan-phu", t, True), "tan-phu", S)
    assert set(state.members) == {"a", "b", "c"}
    state, _ = localized_step(state, 400.0 + S.localized_window_s + 1, "tan-phu", S)
    assert set(state.members) == {"a", "c"}
    state, _ = localized_step(state, 1000.0 + S.localized_window_s + 1, "tan-phu", S)
    assert set(state.members) == {"c"}
    state, _ = localized_step(state, WardSignal("c", "tan-phu", 1200.0, False), "tan-phu", S)
    assert state.members == {}
