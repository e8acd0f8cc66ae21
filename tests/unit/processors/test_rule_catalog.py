"""The rule catalog is the one list of rules: DESIGN.md's ten, and every alert uses one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from ioc.core.schemas import Alert
from ioc.processors import detector
from ioc.processors.detector import Detector
from ioc.processors.rules import catalog
from ioc.processors.rules.catalog import RULES, STORES, SUPPRESSORS
from ioc.processors.worker.routing import Router
from ioc.testing.factories import (
    at,
    drain,
    drainage_device,
    lamp,
    lamp_device,
    registry,
    traffic,
    traffic_device,
)

DESIGN_RULES = {
    "flood.level", "flood.rising", "flood.localized", "traffic.congestion", "traffic.stopped",
    "streetlight.day_burning", "streetlight.outage", "streetlight.overpower",
    "streetlight.circuit_outage", "device.silent",
}
_RULE_NAME = re.compile(r"[a-z]+\.[a-z_]+")
NIGHT = 12 * 3600.0  # T0 is 10:00 in Đồng Xoài; twelve hours on it is dark

REG = registry(drainage_device("d1"), drainage_device("d2"), drainage_device("quiet"),
               traffic_device("t1"), lamp_device("day", circuit="cd"),
               lamp_device("n1", circuit="c1"), lamp_device("n2", circuit="c1"),
               lamp_device("dark", circuit="c3"))


def test_catalog_covers_exactly_the_design_rules() -> None:
    assert set(RULES) == DESIGN_RULES
    assert all(name == rule.name for name, rule in RULES.items())
    assert {rule.store for rule in RULES.values()} == set(STORES)
    assert all(by.name in RULES for by in SUPPRESSORS.values())


def _rule_literals(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
            and isinstance(node.value, str) and _RULE_NAME.fullmatch(node.value)}


def test_rule_modules_and_detector_name_only_catalog_rules() -> None:
    rules_dir = Path(catalog.__file__).parent
    modules = [p for p in rules_dir.glob("*.py") if p.name != "catalog.py"]
    named = set().union(*(_rule_literals(p) for p in modules))
    assert named == DESIGN_RULES  # every rule a rule module emits, and nothing else
    assert _rule_literals(Path(detector.__file__)) == set()  # the detector reads the catalog


def _every_rule_firing() -> list[Alert]:
    det = Detector(REG)
    out: list[Alert] = []
    for s, level in ((0, 0.3), (60, 0.5), (120, 0.7), (180, 0.95)):
        out += det.process(drain("d1", at(s), level)) + det.process(drain("d2", at(s), level))
    for s in (0, 60, 120, 400):
        out += det.process(traffic("t1", at(s), 2.0, 0.9))
    for s in (0, 700):  # lit at 10:00 and drawing twice its rated power
        out += det.process(lamp("day", at(s), "on", 200.0))
    for night_s in (NIGHT, NIGHT + 700):  # float seconds, unlike `s` above
        out += det.process(lamp("n1", at(night_s), "off", 0.0)) + det.process(
            lamp("n2", at(night_s), "off", 0.0)) + det.process(
            lamp("dark", at(night_s), "off", 0.0))
    return out + det.tick(at(NIGHT + 800).timestamp())


def test_every_alert_the_detector_emits_is_a_catalog_rule() -> None:
    alerts = _every_rule_firing()
    assert {a.rule for a in alerts} == DESIGN_RULES
    router = Router(REG)
    for a in alerts:
        rule = RULES[a.rule]
        assert (a.category, a.sub_category) == (rule.category, rule.sub_category)
        assert router.alert_owner(a.id) == "tan-phu"
    # one circuit alert, not one per dark lamp of it
    assert {a.subject for a in alerts if a.rule == "streetlight.outage"} == {"dark"}


def test_restored_alerts_of_every_rule_clear_when_their_condition_does() -> None:
    opened = {(a.rule, a.subject): a for a in _every_rule_firing() if a.status != "resolved"}
    det = Detector(REG)
    for alert in opened.values():
        det.restore(alert)  # as a restarted worker does: the catalog seeds each rule's state
    assert {(a.rule, a.subject) for a in det.open_alerts()} == opened.keys()
    base = NIGHT + 1000
    for s in (0, 60, 120, 180, 1000):  # every condition gone, for longer than its hold
        for dev in ("d1", "d2", "quiet"):
            det.process(drain(dev, at(base + s), 0.1))
        det.process(traffic("t1", at(base + s), 50.0, 0.1))
        det.process(lamp("day", at(base + s), "off", 0.0))
        for dev in ("n1", "n2", "dark"):
            det.process(lamp(dev, at(base + s), "on", 100.0))
    for s in (1000, 2000):  # the ward's hold starts once its sensors leave warning
        det.tick(at(base + s).timestamp())
    assert {a.id for a in det.open_alerts()} & {a.id for a in opened.values()} == set()
