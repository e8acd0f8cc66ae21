"""Alert lifecycle: rule changes and operator commands in, the alert's full new state out."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from ioc.core.alert_limits import command_refusal
from ioc.core.schemas import Alert, AlertCommand, AlertComment
from ioc.processors.rules.base import AlertChange, rank
from ioc.processors.rules.catalog import RULES

__all__ = ["SYSTEM", "alert_id", "apply_change", "apply_command"]

SYSTEM = "system"
log = logging.getLogger(__name__)


def _dt(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def alert_id(rule: str, subject: str, opened_at: float) -> str:
    """Stable id of one alert episode: rule, subject and when it opened (UTC, compact)."""
    return f"{rule}:{subject}:{_dt(opened_at):%Y%m%dT%H%M%SZ}"


def _open(change: AlertChange) -> Alert:
    rule = RULES.get(change.rule)
    category, sub = (rule.category, rule.sub_category) if rule else ("other", change.rule)
    at = _dt(change.at)
    return Alert(
        id=alert_id(change.rule, change.subject, change.at), rule=change.rule,
        subject=change.subject, category=category, sub_category=sub, severity=change.severity,
        ward=change.ward, alert_source=change.source, description=change.description,
        data=change.data, location=change.location, date_issued=at, date_modified=at)


def apply_change(current: Alert | None, change: AlertChange) -> Alert | None:
    """The alert's new state after a rule change, or None when nothing changes.

    `current` is the open (or acknowledged) alert of (rule, subject), if any. Escalation keeps
    the id, bumps `version` and re-opens an acknowledged alert; de-escalation keeps the status.
    """
    live = current is not None and current.status != "resolved"
    if change.active:
        if not live or current is None:
            return _open(change)
        if change.severity == current.severity:
            return None
        escalated = rank(change.severity) > rank(current.severity)
        return current.model_copy(update={
            "severity": change.severity, "description": change.description,
            "data": change.data, "date_modified": _dt(change.at),
            "status": "open" if escalated else current.status, "version": current.version + 1})
    if not live or current is None:
        return None
    at = _dt(change.at)
    return current.model_copy(update={
        "status": "resolved", "resolved_by": SYSTEM, "resolved_at": at, "date_modified": at,
        "data": {**current.data, "resolution": change.description, **_latest(change)},
        "version": current.version + 1})


def _latest(change: AlertChange) -> dict[str, object]:
    return {f"last{k[:1].upper()}{k[1:]}": v for k, v in change.data.items()
            if isinstance(v, int | float)}


def apply_command(current: Alert, cmd: AlertCommand) -> Alert | None:
    """The alert's new state after an operator command, or None when it changes nothing.

    A command past a cap of `ioc.core.alert_limits` changes nothing either (and is logged):
    the alert must stay small enough to publish.
    """
    refusal = command_refusal(current, cmd)
    if refusal is not None:
        log.warning("refused %s on %s by %.64r: %s", cmd.action, current.id, cmd.by, refusal)
        return None
    at = cmd.at
    update: dict[str, object]
    if cmd.action == "acknowledge":
        if current.status != "open":
            return None
        update = {"status": "acknowledged", "acknowledged_by": cmd.by, "acknowledged_at": at}
    elif cmd.action == "resolve":
        if current.status == "resolved":
            return None
        update = {"status": "resolved", "resolved_by": cmd.by, "resolved_at": at}
    elif cmd.action == "assign":
        if cmd.assignee is None or cmd.assignee == current.assigned_to:
            return None
        update = {"assigned_to": cmd.assignee}
    else:
        if not cmd.text:
            return None
        update = {"comments": (*current.comments, AlertComment(by=cmd.by, at=at, text=cmd.text))}
    update["date_modified"] = max(at, current.date_modified)
    update["version"] = current.version + 1
    return current.model_copy(update=update)
