"""Issue 9 controls of the API, over fakes: bad input is 4xx, limits, headers, token TTLs."""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from starlette.websockets import WebSocketDisconnect

from ioc.api.access_log import RedactQueryStrings
from ioc.api.auth import MAX_SERVICE_TTL_S, TokenError, TokenSigner
from ioc.api.static_files import CONSOLE_PAGE, STATIC_DIR
from ioc.core.alert_limits import MAX_COMMENTS
from ioc.core.schemas import AlertComment
from tests.unit.api.api_fakes import T0, Api, make_alert

READINGS = "/api/v1/devices/dr-001/readings"


@pytest.mark.parametrize("value", ["Bearer é".encode("latin-1"), "Bearer ✓".encode(),
                                   b"Bearer \xff\xfe", "Bearer ioc1.é.sig".encode(),
                                   "Bearer ioc1.eyJ9.✓".encode()])
def test_non_ascii_authorization_header_is_401(api: Api, value: bytes) -> None:
    resp = api.client.get("/api/v1/auth/me", headers={"Authorization": value})
    assert resp.status_code == 401 and "malformed token" in resp.json()["detail"]


@pytest.mark.parametrize(("params", "message"), [
    ({"since": "0001-01-01T00:00:00Z"}, "between 1677-09-22 and 2262-04-10"),
    ({"until": "9999-12-31T23:59:59Z"}, "between 1677-09-22 and 2262-04-10"),
    ({"until": "0001-01-01T00:00:00+01:00"}, "what InfluxDB can store"),
    ({"since": "1700-01-01T00:00:00Z", "until": "2200-01-01T00:00:00Z"}, "maximum of 31 days"),
    ({"since": "2026-04-01T00:00:00Z", "until": "2026-05-15T00:00:00Z"}, "maximum of 31 days"),
])
def test_time_windows_are_limited(api: Api, params: dict[str, str], message: str) -> None:
    resp = api.client.get(READINGS, params=params, headers=api.auth("view"))
    assert resp.status_code == 422 and message in resp.json()["detail"]
    assert api.reader.calls == []  # refused before InfluxDB sees it


def test_window_near_the_earliest_time_is_clamped(api: Api) -> None:
    resp = api.client.get(READINGS, params={"until": "1677-09-22T06:00:00Z"},
                          headers=api.auth("view"))
    assert resp.status_code == 200, resp.text
    assert resp.json()["since"].startswith("1677-09-22T00:00:00")
    full = api.client.get(READINGS, headers=api.auth("view"), params={
        "since": "2026-05-01T00:00:00Z", "until": "2026-06-01T00:00:00Z"})
    assert full.status_code == 200  # exactly 31 days is allowed


def test_binary_first_frame_closes_with_policy_violation(api: Api) -> None:
    with (api.client.websocket_connect("/api/v1/alerts/live") as ws,
          pytest.raises(WebSocketDisconnect) as info):
        ws.send_bytes(b'{"token": "x"}')
        ws.receive_json()
    assert info.value.code == 1008 and "text frame" in (info.value.reason or "")


@pytest.mark.parametrize("change", ["revoke", "delete"])
def test_live_socket_closes_when_its_user_loses_access(api: Api, change: str) -> None:
    token = api.token_for("view")
    with (api.client.websocket_connect("/api/v1/alerts/live") as ws,
          pytest.raises(WebSocketDisconnect) as info):
        ws.send_json({"token": token})
        assert ws.receive_json()["type"] == "snapshot"
        api.clock.now += 1
        if change == "revoke":
            api.users.revoke_tokens("view")
        else:
            api.users.delete("view")
        ws.receive_json()  # the next thing the socket hears is its close
    assert info.value.code == 4401
    assert ("revoked" if change == "revoke" else "no longer exists") in (info.value.reason or "")


def test_body_over_the_limit_is_413_by_content_length(api: Api) -> None:
    alert_id = make_alert(1).id
    resp = api.client.post(f"/api/v1/alerts/{alert_id}/comment", headers=api.auth("oper"),
                           content=b'{"text": "' + b"x" * 70_000 + b'"}')
    assert resp.status_code == 413 and "65536 bytes" in resp.json()["detail"]
    assert api.commands.sent == []


def test_streamed_body_over_the_limit_is_413(api: Api) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(20):
            yield b"x" * 8192
        yield b'"}'

    resp = api.client.post(f"/api/v1/alerts/{make_alert(1).id}/comment", content=chunks(),
                           headers={**api.auth("oper"), "Content-Type": "application/json"})
    assert resp.status_code == 413 and "limit" in resp.json()["detail"]
    assert api.commands.sent == []


@pytest.mark.parametrize(("count", "text", "message"), [
    (MAX_COMMENTS, "ok", f"maximum of {MAX_COMMENTS} comments"),
    # control characters are six bytes of JSON each: 43 + 1 such comments pass 512 KiB
    (43, "\x01" * 2000, "over the 524288-byte limit"),
])
def test_comment_past_a_cap_is_409(api: Api, count: int, text: str, message: str) -> None:
    base = make_alert(1)
    comments = tuple(AlertComment(by="oper", at=T0, text=text) for _ in range(count))
    api.view.apply(base.model_copy(update={"comments": comments, "version": 2}))
    resp = api.client.post(f"/api/v1/alerts/{base.id}/comment", headers=api.auth("oper"),
                           json={"text": text})
    assert resp.status_code == 409 and message in resp.json()["detail"]
    assert api.commands.sent == []
    ack = api.client.post(f"/api/v1/alerts/{base.id}/acknowledge", headers=api.auth("oper"))
    assert ack.status_code == 202  # the alert still takes every other command


def test_security_headers_on_api_and_console(api: Api) -> None:
    for path in ("/api/v1/alerts", "/healthz", "/"):
        headers = api.client.get(path, headers=api.auth("view")).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
    too_big = api.client.post("/api/v1/auth/token", content=b"x" * 70_000)
    assert too_big.status_code == 413 and "nosniff" in too_big.headers["x-content-type-options"]


def test_console_runs_under_a_csp_without_inline_code() -> None:
    # scripts and styles are package files: no inline blocks, handler attributes or inline
    # styles, so the policy needs nothing but 'self' (and never 'unsafe-inline')
    html = CONSOLE_PAGE.read_text(encoding="utf-8")
    assert not re.search(r"\son[a-z]+\s*=", html) and " style=" not in html
    assert "javascript:" not in html and "<style" not in html
    assert re.findall(r"<script[^>]*>([^<]*)</script>", html) == ["", ""]  # src only
    for script in (STATIC_DIR / "js").glob("*.js"):  # nothing that writes markup
        text = script.read_text(encoding="utf-8")
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text, script.name
    from ioc.api.middleware import page_csp

    csp = page_csp(html, script_src=["'self'"], style_src=["'self'"])
    assert "script-src 'self';" in csp and "style-src 'self';" in csp
    assert "'unsafe-inline'" not in csp and "connect-src 'self'" in csp


def test_console_is_served_with_its_csp(api: Api) -> None:
    resp = api.client.get("/")
    csp = resp.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "style-src 'self';" in csp
    assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
    for path in ("/static/js/console.js", "/static/console.css"):
        served = api.client.get(path)
        assert served.status_code == 200 and served.headers["x-content-type-options"] == "nosniff"
    assert api.client.get("/static/../main.py").status_code == 404
    docs = api.client.get("/docs").headers["content-security-policy"]
    assert "frame-ancestors 'none'" in docs and "https://cdn.jsdelivr.net" in docs


def test_service_token_lifetime_is_bounded(api: Api) -> None:
    too_long = api.client.post(f"/api/v1/users/view/token?ttl_s={MAX_SERVICE_TTL_S + 1}",
                               headers=api.auth("admin"))
    assert too_long.status_code == 422
    login = api.client.post("/api/v1/auth/token",
                            data={"username": "view", "password": "password-view"}).json()
    assert login["expires_at"].startswith((T0 + timedelta(hours=1)).date().isoformat())


def test_tokens_beyond_the_maximum_lifetime_are_refused() -> None:
    now = [1000.0]
    signer = TokenSigner("a-real-random-secret-value", clock=lambda: now[0])
    with pytest.raises(ValueError, match="lifetime"):
        signer.issue("view", "viewer", MAX_SERVICE_TTL_S + 1)
    # a year-long token as older versions issued them, signed with the same secret
    body = base64.urlsafe_b64encode(
        b'{"sub":"view","role":"viewer","iat":1000.0,"exp":31537000.0}').rstrip(b"=").decode()
    token = f"ioc1.{body}.{signer._sign(body)}"
    with pytest.raises(TokenError, match="lifetime"):
        signer.verify(token)


def test_access_log_query_strings_are_redacted() -> None:
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1,
                               '%s - "WebSocket %s" [accepted]',
                               ("127.0.0.1:5000", "/api/v1/alerts/live?token=ioc1.secret"), None)
    RedactQueryStrings().filter(record)
    assert record.getMessage() == \
        '127.0.0.1:5000 - "WebSocket /api/v1/alerts/live?[redacted]" [accepted]'


@pytest.mark.parametrize(("path", "body"), [
    ("/api/v1/alerts/{id}/comment", b'{"text": "\\ud800"}'),
    ("/api/v1/alerts/{id}/assign", b'{"assignee": "\\udfff"}'),
])
def test_lone_surrogates_in_json_are_422_not_500(api: Api, path: str, body: bytes) -> None:
    # the 422 echoes the input back; UTF-8 cannot encode a lone surrogate
    resp = api.client.post(path.format(id=make_alert(1).id), content=body,
                           headers={**api.auth("oper"), "Content-Type": "application/json"})
    assert resp.status_code == 422 and "valid string" in resp.json()["detail"][0]["msg"]
    assert api.commands.sent == []
