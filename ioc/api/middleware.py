"""ASGI middleware at the API's edge: a request-body limit and security headers; page CSPs."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable

import orjson
from fastapi import HTTPException, status
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ioc.api.login_guard import LoginGuard

__all__ = ["API_CSP", "BodyLimit", "LoginGate", "SecurityHeaders", "page_csp"]

# JSON answers never need to load anything or be framed
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
_INLINE = {"script": re.compile(r"<script>(.*?)</script>", re.S),
           "style": re.compile(r"<style>(.*?)</style>", re.S)}


def _hashes(html: str, tag: str) -> list[str]:
    digests = (hashlib.sha256(body.encode("utf-8")).digest()
               for body in _INLINE[tag].findall(html))
    return [f"'sha256-{base64.b64encode(d).decode('ascii')}'" for d in digests]


def page_csp(html: str, *, script_src: Iterable[str] = (), style_src: Iterable[str] = (),
             img_src: Iterable[str] = ("'self'",)) -> str:
    """A CSP for one HTML page: its inline <script>/<style> blocks allowed by hash, no frames."""
    scripts = " ".join([*script_src, *_hashes(html, "script")]) or "'none'"
    styles = " ".join([*style_src, *_hashes(html, "style")]) or "'none'"
    return (f"default-src 'none'; script-src {scripts}; style-src {styles}; "
            f"img-src {' '.join(img_src)}; connect-src 'self'; form-action 'self'; "
            "base-uri 'none'; frame-ancestors 'none'")


def _too_large(limit: int) -> HTTPException:
    return HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                         detail=f"request body too large: the limit is {limit} bytes")


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server's HTTP parser refuses it before we get here
    return None


class BodyLimit:
    """413 for bodies over `max_bytes`: by Content-Length before reading, else while reading."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            # the body is never read: the server closes the connection after this answer
            await _send_error(send, _too_large(self.max_bytes), [(b"connection", b"close")])
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # raised inside the route's body read: FastAPI answers it as a 413
                    raise _too_large(self.max_bytes)
            return message

        await self.app(scope, counted, send)


class LoginGate:
    """429 for a login from a throttled client address before its form is even read."""

    def __init__(self, app: ASGIApp, guard: LoginGuard, path: str) -> None:
        self.app, self.guard, self.path = app, guard, path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == self.path:
            client = scope.get("client")
            refused = self.guard.refusal(client[0] if client else "unknown")
            if refused is not None:
                retry = str(refused.retry_after_s).encode()
                await _send_error(send, HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                                                      detail=str(refused)),
                                  [(b"retry-after", retry)])
                return
        await self.app(scope, receive, send)


async def _send_error(send: Send, exc: HTTPException,
                      extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = orjson.dumps({"detail": exc.detail})
    await send({"type": "http.response.start", "status": exc.status_code,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *(extra or [])]})
    await send({"type": "http.response.body", "body": body})


_SECURITY = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
             (b"x-frame-options", b"DENY")]


class SecurityHeaders:
    """nosniff, no referrer, no framing and a CSP on every response (pages bring their own)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = scope["path"].startswith("/api/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = [*_SECURITY, (b"content-security-policy", API_CSP.encode())]
                if api:
                    extra.append((b"cache-control", b"no-store"))  # tokens, live state
                headers += [(n, v) for n, v in extra if n not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
