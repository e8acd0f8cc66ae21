"""WebSocket /api/v1/alerts/live over the in-memory view."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from tests.unit.api.api_fakes import Api, make_alert, wait_until

URL = "/api/v1/alerts/live"


@contextmanager
def _live(api: Api, token: str) -> Iterator[WebSocketTestSession]:
    with api.client.websocket_connect(URL) as ws:
        ws.send_json({"token": token})
        yield ws


def test_snapshot_then_changes_as_they_happen(api: Api) -> None:
    with _live(api, api.token_for("view")) as ws:
        snapshot = ws.receive_json()
        assert snapshot["type"] == "snapshot"
        assert [a["subject"] for a in snapshot["alerts"]] == ["dev-3", "dev-2", "dev-1"]
        first = api.view.snapshot()[0]
        newer = first.model_copy(update={"status": "acknowledged", "version": 2})
        assert api.view.apply(newer)
        assert not api.view.apply(first)  # older: folded away, nobody hears of it
        api.view.apply(make_alert(9, ward="tan-xuan"))
        got = [ws.receive_json(), ws.receive_json()]
        assert [(m["type"], m["alert"]["id"]) for m in got] == [
            ("alert", first.id), ("alert", make_alert(9).id)]
        assert got[0]["alert"]["status"] == "acknowledged" and got[0]["alert"]["version"] == 2
        assert got[1]["alert"]["ward"] == "tan-xuan"


def test_token_in_the_first_message(api: Api) -> None:
    with api.client.websocket_connect(URL) as ws:
        ws.send_json({"token": api.token_for("oper")})
        assert ws.receive_json()["type"] == "snapshot"


@pytest.mark.parametrize("first", [{"token": "ioc1.bad.token"}, {"hello": 1}, "not json"])
def test_bad_or_missing_token_closes_with_4401(api: Api, first: object) -> None:
    with api.client.websocket_connect(URL) as ws:
        if isinstance(first, str):
            ws.send_text(first)
        else:
            ws.send_json(first)
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_json()
    assert info.value.code == 4401


def test_expired_token_is_refused(api: Api) -> None:
    token = api.token_for("view")
    api.clock.now += 7200
    with (_live(api, token) as ws,
          pytest.raises(WebSocketDisconnect) as info):
        ws.receive_json()
    assert info.value.code == 4401 and "expired" in (info.value.reason or "")


def test_subscription_ends_with_the_socket(api: Api) -> None:
    with _live(api, api.token_for("view")) as ws:
        ws.receive_json()
        assert api.view.subscriber_count == 1
    wait_until(lambda: api.view.subscriber_count == 0)


def test_token_in_the_url_is_refused(api: Api) -> None:
    # query strings end up in access logs, so a token there must not work
    with (api.client.websocket_connect(f"{URL}?token={api.token_for('view')}") as ws,
          pytest.raises(WebSocketDisconnect) as info):
        ws.receive_json()
    assert info.value.code == 4401 and "URL" in (info.value.reason or "")
    assert api.view.subscriber_count == 0
