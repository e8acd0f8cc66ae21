"""WebSocket /api/v1/alerts/live over the in-memory view."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from ioc.api.routes.live import _end
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


def _break_users_file(api: Api) -> None:
    api.users.path.write_bytes(b"{not json")  # the store reads it again: ConfigError


def test_unreadable_users_file_while_streaming_closes_with_1011(api: Api) -> None:
    with (_live(api, api.token_for("view")) as ws,
          pytest.raises(WebSocketDisconnect) as info):
        assert ws.receive_json()["type"] == "snapshot"
        _break_users_file(api)
        ws.receive_json()  # the next re-check cannot read the user: the socket closes
    assert info.value.code == 1011
    assert info.value.reason == "cannot check the user now; reconnect later"  # no file path
    wait_until(lambda: api.view.subscriber_count == 0)


def test_unreadable_users_file_at_authentication_closes_with_1011(api: Api) -> None:
    token = api.token_for("view")
    _break_users_file(api)
    with (_live(api, token) as ws, pytest.raises(WebSocketDisconnect) as info):
        ws.receive_json()
    assert info.value.code == 1011 and "users" not in (info.value.reason or "")
    assert api.view.subscriber_count == 0


def test_ending_the_socket_retrieves_its_tasks_exceptions() -> None:
    # a task that ends with an error when cancelled (e.g. cut off mid-send) must not be
    # reported as "Task exception was never retrieved" when it is garbage collected;
    # cancel() already silences tasks that had finished before it
    async def scenario() -> list[dict[str, object]]:
        reported: list[dict[str, object]] = []
        asyncio.get_running_loop().set_exception_handler(lambda _, ctx: reported.append(ctx))

        async def fails_when_cancelled() -> None:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                raise RuntimeError("send cut off") from None

        tasks = {asyncio.create_task(fails_when_cancelled()),
                 asyncio.create_task(asyncio.sleep(30))}
        await asyncio.sleep(0)  # both are waiting
        _end(tasks)
        await asyncio.wait(tasks)  # waiting retrieves no exception: only _end's callback does
        await asyncio.sleep(0)  # the done callbacks run
        tasks.clear()
        gc.collect()
        return reported

    assert asyncio.run(scenario()) == []
