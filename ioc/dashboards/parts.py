"""Pieces the dashboards share: filters, ward names, severity colours, alert tables."""

from __future__ import annotations

from typing import Any

from ioc.core.city import CENTRE
from ioc.core.registry import WARDS
from ioc.dashboards.model import Panel, Target, Threshold, table
from ioc.dashboards.queries import alert_history, open_alerts_by_severity, var_match

__all__ = ["ALERT_STEPS", "CENTRE", "DEVICE", "GAZETTEER_PATH", "WARD", "alerts_table",
           "open_alert_targets", "severity_overrides", "ward_mapping", "ward_overrides"]

# Where Grafana serves the device gazetteer the geomap panels look devices up in: a folder
# of its own under Grafana's public/gazetteer (docker-compose.yml mounts it there), so
# Grafana's own gazetteers beside it stay visible.
GAZETTEER_PATH = "public/gazetteer/ioc/ioc-devices.json"

SEVERITY_COLOURS = {"informational": "blue", "low": "green", "medium": "yellow",
                    "high": "orange", "critical": "red"}
ALERT_STEPS = (Threshold(None, "green"), Threshold(1, "orange"), Threshold(5, "red"))
WARD = var_match("ward")
DEVICE = var_match("device")


def ward_overrides() -> tuple[dict[str, Any], ...]:
    """Show a ward's Vietnamese name wherever its slug names a series."""
    return tuple({"matcher": {"id": "byName", "options": slug},
                  "properties": [{"id": "displayName", "value": ward.name}]}
                 for slug, ward in WARDS.items())


def severity_overrides() -> tuple[dict[str, Any], ...]:
    """Colour each severity's series the same way on every panel."""
    return tuple({"matcher": {"id": "byName", "options": sev},
                  "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": c}}]}
                 for sev, c in SEVERITY_COLOURS.items())


def ward_mapping() -> dict[str, Any]:
    """A value mapping from ward slugs to their Vietnamese names (for table cells)."""
    return {"type": "value", "options": {
        slug: {"text": ward.name, "index": i} for i, (slug, ward) in enumerate(WARDS.items())}}


def alerts_table(title: str, rule_regex: str, *, width: int = 24) -> Panel:
    """Every change of the alerts whose rule matches `rule_regex`, newest first."""
    conditions = (f'"rule" =~ /{rule_regex}/', WARD)
    return table(title, Target(alert_history(conditions), result_format="table"),
                 description="Mọi thay đổi cảnh báo trong khoảng thời gian, mới nhất trước "
                             "(every alert change in the time range, newest first).",
                 width=width, mappings=(ward_mapping(),))


def open_alert_targets(conditions: tuple[str, ...]) -> tuple[Target, ...]:
    """One target per severity band counting unresolved alerts (alias = the band)."""
    return tuple(Target(q, alias=name) for name, q in open_alerts_by_severity(conditions).items())
