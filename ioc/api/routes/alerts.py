"""Alerts: list and look up the current state; send operator commands to the worker."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import StringConstraints

from ioc.api.alert_store import AlertFilter, select_alerts
from ioc.api.deps import Ctx, CurrentUser, Operator, errors, found_or_404
from ioc.api.models import AlertPage, AssignBody, CommentBody
from ioc.api.routes.devices import WardSlug
from ioc.core.alert_limits import command_refusal
from ioc.core.schemas import Alert, AlertCommand, Severity, Status

__all__ = ["router"]

router = APIRouter(prefix="/alerts", tags=["alerts"], responses=errors(401, 422))
RuleName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")]
AlertId = Annotated[str, Path(min_length=1, max_length=256, description="Alert id")]


@router.get("", response_model=AlertPage, summary="Current alerts, newest first")
def list_alerts(ctx: Ctx, _: CurrentUser,
                status_: Annotated[list[Status], Query(alias="status")] = [],  # noqa: B006
                rule: Annotated[list[RuleName], Query()] = [],  # noqa: B006
                ward: Annotated[list[WardSlug], Query()] = [],  # noqa: B006
                severity: Annotated[list[Severity], Query()] = [],  # noqa: B006
                limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> AlertPage:
    """Filter by status, rule (e.g. flood.level), ward (a slug) and severity (each
    repeatable); newest dateIssued first."""
    flt = AlertFilter(tuple(status_), tuple(rule), tuple(ward), tuple(severity))
    data, count = select_alerts(ctx.view.snapshot(), flt, limit)
    return AlertPage(data=data, count=count)


def _alert_or_404(ctx: Ctx, alert_id: str) -> Alert:
    return found_or_404(ctx.view.get(alert_id), "alert", alert_id)


@router.get("/{alert_id}", response_model=Alert, summary="One alert's current state",
            responses=errors(404))
def get_alert(ctx: Ctx, _: CurrentUser, alert_id: AlertId) -> Alert:
    """The alert's latest version; 404 if unknown."""
    return _alert_or_404(ctx, alert_id)


Action = Literal["acknowledge", "resolve", "assign", "comment"]


def _send(ctx: Ctx, user: Operator, alert_id: str, action: Action,
          assignee: str | None = None, text: str | None = None) -> AlertCommand:
    alert = _alert_or_404(ctx, alert_id)
    if action == "acknowledge" and alert.status != "open":
        raise HTTPException(status.HTTP_409_CONFLICT,
                            detail=f"alert {alert_id!r} is {alert.status}, not open")
    if action == "resolve" and alert.status == "resolved":
        raise HTTPException(status.HTTP_409_CONFLICT,
                            detail=f"alert {alert_id!r} is resolved already")
    command = AlertCommand(alert_id=alert_id, action=action, by=user.name,
                           at=datetime.fromtimestamp(ctx.clock(), UTC), assignee=assignee,
                           text=text, command_id=uuid.uuid4().hex)
    refusal = command_refusal(alert, command)  # the worker would refuse it as well
    if refusal is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"alert {alert_id!r}: {refusal}")
    ctx.commands.send(command)
    return command


_ACCEPTED: dict[str, Any] = {"status_code": status.HTTP_202_ACCEPTED,
                             "response_model": AlertCommand,
                             "responses": errors(400, 403, 404, 409, 413, 503)}


@router.post("/{alert_id}/acknowledge", **_ACCEPTED, summary="Acknowledge an open alert")
def acknowledge(ctx: Ctx, user: Operator, alert_id: AlertId) -> AlertCommand:
    """Queue an acknowledge command; the worker applies it (202 with the command)."""
    return _send(ctx, user, alert_id, "acknowledge")


@router.post("/{alert_id}/resolve", **_ACCEPTED, summary="Resolve an alert")
def resolve(ctx: Ctx, user: Operator, alert_id: AlertId) -> AlertCommand:
    """Queue a resolve command (202 with the command)."""
    return _send(ctx, user, alert_id, "resolve")


@router.post("/{alert_id}/assign", **_ACCEPTED, summary="Assign an alert to someone")
def assign(ctx: Ctx, user: Operator, alert_id: AlertId, body: AssignBody) -> AlertCommand:
    """Queue an assign command (202 with the command)."""
    return _send(ctx, user, alert_id, "assign", assignee=body.assignee)


@router.post("/{alert_id}/comment", **_ACCEPTED, summary="Comment on an alert")
def comment(ctx: Ctx, user: Operator, alert_id: AlertId, body: CommentBody) -> AlertCommand:
    """Queue a comment command (202 with the command)."""
    return _send(ctx, user, alert_id, "comment", text=body.text)
