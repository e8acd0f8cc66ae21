"""WebSocket /api/v1/alerts/live: a snapshot, then every alert change as it happens.

Authenticate by sending `{"token": "<bearer token>"}` as the first message; a token in the
URL is refused, because access logs and proxies record query strings. Messages:
`{"type": "snapshot", "alerts": [...]}` once, then `{"type": "alert", "alert": {...}}`.
Close codes: 4401 bad/missing/expired/revoked token or deleted user (checked again every
RECHECK_S seconds while the socket is open), 1008 the first message is not a text frame,
1011 the user cannot be checked now (e.g. the users file is unreadable; reconnect later),
1013 reconnect to reload (the client fell too far behind, or an alert was deleted from the
topic).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from ioc.api.alert_store import AlertFilter, Subscription, select_alerts
from ioc.api.auth import TokenError
from ioc.api.context import ApiContext, user_from_token
from ioc.core.errors import IocError
from ioc.core.schemas import Alert

__all__ = ["router"]

log = logging.getLogger(__name__)
router = APIRouter(tags=["alerts"])
AUTH_TIMEOUT_S = 10.0
SNAPSHOT_LIMIT = 1000
RECHECK_S = 2.0  # a revoked or deleted user's socket closes within this (plus a send)
POLICY_VIOLATION = 1008
INTERNAL_ERROR = 1011


class _NotText(Exception):
    """The first message was not a text frame."""


def _dump(alert: Alert) -> dict[str, Any]:
    return alert.model_dump(mode="json", by_alias=True)


async def _authenticate(ws: WebSocket, ctx: ApiContext) -> str:
    if "token" in ws.query_params:
        # refused rather than ignored, so a client leaking tokens into logs is noticed
        raise TokenError("token in the URL is not accepted; send {\"token\": \"...\"} first")
    first = await asyncio.wait_for(ws.receive(), timeout=AUTH_TIMEOUT_S)
    if first["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(first.get("code", 1000))
    text = first.get("text")
    if text is None:
        raise _NotText("send {\"token\": \"...\"} as a text frame")
    message = orjson.loads(text)
    token = message.get("token") if isinstance(message, dict) else None
    if not isinstance(token, str) or not token:
        raise TokenError("send {\"token\": \"...\"} as the first message")
    user_from_token(ctx, token)
    return token


async def _pump(ws: WebSocket, sub: Subscription) -> None:
    while True:
        alert = await sub.get()
        if sub.overflowed:
            await ws.close(code=1013, reason="too far behind; reconnect to reload")
            return
        await ws.send_text(orjson.dumps({"type": "alert", "alert": _dump(alert)}).decode())


async def _drain(ws: WebSocket) -> None:
    # reading is how a disconnect is noticed while no alert changes arrive
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await ws.receive()


@router.websocket("/alerts/live")
async def alerts_live(ws: WebSocket) -> None:
    """Every alert change as it happens, after a snapshot of the current alerts."""
    ctx: ApiContext = ws.app.state.ctx
    await ws.accept()
    try:
        token = await _authenticate(ws, ctx)
    except _NotText as exc:
        await ws.close(code=POLICY_VIOLATION, reason=str(exc))
        return
    except (TokenError, TimeoutError, ValueError) as exc:
        reason = str(exc) or "authentication timed out"
        await ws.close(code=4401, reason=f"not authenticated: {reason}"[:120])
        return
    except IocError as exc:
        await _cannot_check(ws, exc)
        return
    except WebSocketDisconnect:
        return
    sub = ctx.view.subscribe(asyncio.get_running_loop())
    tasks: set[asyncio.Task[None]] = set()
    try:
        data, _ = select_alerts(ctx.view.snapshot(), AlertFilter(), SNAPSHOT_LIMIT)
        await ws.send_text(orjson.dumps({"type": "snapshot",
                                          "alerts": [_dump(a) for a in data]}).decode())
        tasks = {asyncio.create_task(_pump(ws, sub)), asyncio.create_task(_drain(ws))}
        await _serve_while_valid(ws, ctx, token, tasks)
    except (WebSocketDisconnect, RuntimeError) as exc:
        log.debug("live alerts socket ended: %s", exc)
    finally:
        ctx.view.unsubscribe(sub)
        _end(tasks)


def _end(tasks: set[asyncio.Task[None]]) -> None:
    # Not awaited: the handler may itself be cancelled here (client gone, server stopping),
    # and awaiting under that cancellation breaks the server's cancel scope. A done callback
    # still retrieves each task's exception, so none is logged as "never retrieved".
    for task in tasks:
        task.add_done_callback(_retrieve)
        task.cancel()


def _retrieve(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.debug("live alerts task ended: %r", exc)  # e.g. a send to a closed socket


async def _cannot_check(ws: WebSocket, exc: IocError) -> None:
    # the reason is generic: the error's own text may name files or backends
    log.warning("live alerts socket closed: cannot check its user: %s", exc)
    await ws.close(code=INTERNAL_ERROR, reason="cannot check the user now; reconnect later")


async def _serve_while_valid(ws: WebSocket, ctx: ApiContext, token: str,
                             tasks: set[asyncio.Task[None]]) -> None:
    # the token and its user are checked again every RECHECK_S: expiry, revocation and
    # deletion all end the stream within seconds, not when the token would have expired
    while True:
        done, _ = await asyncio.wait(tasks, timeout=RECHECK_S,
                                     return_when=asyncio.FIRST_COMPLETED)
        if done:
            return
        try:
            user_from_token(ctx, token)
        except TokenError as exc:
            await ws.close(code=4401, reason=f"not authenticated: {exc}"[:120])
            return
        except IocError as exc:  # e.g. ConfigError: the users file is unreadable
            await _cannot_check(ws, exc)
            return
