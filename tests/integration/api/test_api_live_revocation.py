"""A live alerts socket ends within 5 s when its user's tokens are revoked or the user deleted."""

from __future__ import annotations

import time
from collections.abc import Callable

import orjson
import pytest
import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.integration.api.api_helpers import login
from tests.integration.api.api_process import ApiProcess

CLOSE_WITHIN_S = 5.0


@pytest.mark.parametrize(("change", "reason"), [("revoke", "token revoked"),
                                                ("delete", "no longer exists")])
def test_live_socket_closes_within_5_s(api_process: Callable[..., ApiProcess], change: str,
                                       reason: str) -> None:
    served = api_process()
    admin = {"Authorization": f"Bearer {login(served.url, 'boss')}"}
    ws_url = served.url.replace("http://", "ws://") + "/api/v1/alerts/live"
    with connect(ws_url, open_timeout=30) as ws:
        ws.send(orjson.dumps({"token": login(served.url, "view")}).decode())
        assert orjson.loads(ws.recv(timeout=30))["type"] == "snapshot"
        if change == "revoke":
            resp = requests.post(f"{served.url}/api/v1/users/view/revoke-tokens",
                                 headers=admin, timeout=30)
        else:
            resp = requests.delete(f"{served.url}/api/v1/users/view", headers=admin, timeout=30)
        assert resp.status_code in (200, 204), resp.text
        changed = time.monotonic()
        with pytest.raises(ConnectionClosed) as info:
            while True:  # alerts of the local stack may still arrive before the close
                ws.recv(timeout=CLOSE_WITHIN_S + 5)
        took = time.monotonic() - changed
    assert info.value.rcvd is not None and info.value.rcvd.code == 4401
    assert reason in info.value.rcvd.reason
    assert took < CLOSE_WITHIN_S, f"the socket outlived its user by {took:.1f} s"
