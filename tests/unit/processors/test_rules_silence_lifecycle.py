"""device.silent timing, offline Last Will, and the operator side of the alert lifecycle."""

from __future__ import annotations

from dataclasses import replace

from ioc.core.schemas import AlertCommand
from ioc.processors.detector import Detector
from ioc.processors.rules.base import RuleSettings
from ioc.testing.factories import at, drain, drainage_device, registry

S = RuleSettings()


def _ts(s: float) -> float:
    return at(s).timestamp()


def test_silent_after_several_intervals_and_clears_on_reading() -> None:
    det = Detector(registry(drainage_device("d1")), replace(S, silent_unseen=False))
    det.process(drain("d1", at(0), 0.1))
    assert det.tick(_ts(179)) == []  # 3 x 60 s not yet over
    opened = det.tick(_ts(180))
    assert [(a.rule, a.subject, a.data["reason"]) for a in opened] == [
        ("device.silent", "d1", "no_readings")]
    assert det.tick(_ts(600)) == []  # no duplicate while still silent
    closed = det.process(drain("d1", at(700), 0.1))
    assert [(a.id, a.status) for a in closed] == [(opened[0].id, "resolved")]


def test_never_seen_device_is_silent_from_first_tick() -> None:
    det = Detector(registry(drainage_device("d1"), drainage_device("d2")))
    det.process(drain("d1", at(0), 0.1))
    assert det.tick(_ts(10)) == []
    det.process(drain("d1", at(180), 0.1))
    assert [a.subject for a in det.tick(_ts(190))] == ["d2"]


def test_offline_last_will_opens_immediately() -> None:
    det = Detector(registry(drainage_device("d1")))
    det.process(drain("d1", at(0), 0.1))
    alerts = det.status("d1", "offline", _ts(5))
    assert alerts[0].rule == "device.silent" and alerts[0].data["reason"] == "offline"
    assert det.tick(_ts(1000)) == []


def _open_alert(det: Detector) -> str:
    return det.process(drain("d1", at(0), 0.7))[0].id


def _cmd(alert_id: str, action: str, **kw: object) -> AlertCommand:
    return AlertCommand(alert_id=alert_id, action=action, by="op-lan", at=at(30),  # type: ignore[arg-type]
                        **kw)  # type: ignore[arg-type]


def test_acknowledge_applies_exactly_once() -> None:
    det = Detector(registry(drainage_device("d1")))
    aid = _open_alert(det)
    first = det.command(_cmd(aid, "acknowledge", command_id="c1"))
    assert [(a.status, a.acknowledged_by, a.version) for a in first] == [
        ("acknowledged", "op-lan", 2)]
    assert det.command(_cmd(aid, "acknowledge", command_id="c1")) == []  # redelivered
    assert det.command(_cmd(aid, "acknowledge", command_id="c2")) == []  # already acked


def test_escalation_reopens_an_acknowledged_alert_with_same_id() -> None:
    det = Detector(registry(drainage_device("d1")))
    aid = _open_alert(det)
    det.command(_cmd(aid, "acknowledge"))
    esc = det.process(drain("d1", at(60), 1.0))
    level = [a for a in esc if a.rule == "flood.level"]
    assert (level[0].id, level[0].status, level[0].severity) == (aid, "open", "critical")
    assert level[0].acknowledged_by == "op-lan"


def test_assign_comment_and_operator_resolve() -> None:
    det = Detector(registry(drainage_device("d1")))
    aid = _open_alert(det)
    assert det.command(_cmd(aid, "assign", assignee="đội-1"))[0].assigned_to == "đội-1"
    c = det.command(_cmd(aid, "comment", text="Đã cử người"))[0]
    assert c.comments[0].text == "Đã cử người" and c.version == 3
    r = det.command(_cmd(aid, "resolve"))[0]
    assert (r.status, r.resolved_by) == ("resolved", "op-lan")
    assert det.open_alerts() == []
    assert det.command(_cmd("nope", "resolve")) == []


def test_redelivered_reading_is_ignored() -> None:
    det = Detector(registry(drainage_device("d1")))
    assert len(det.process(drain("d1", at(0), 0.7))) == 1
    assert det.process(drain("d1", at(0), 0.7)) == []
    assert det.counts["stale_or_duplicate"] == 1
