"""The API against real Kafka: alerts topic → REST + WebSocket; commands → commands topic."""

from __future__ import annotations

from collections.abc import Callable

import orjson
import requests
from websockets.sync.client import connect

from ioc.core.schemas import AlertCommand
from ioc.core.settings import Settings
from tests.integration.api.api_helpers import (
    Served,
    login,
    make_alert,
    produce_alerts,
    read_topic,
)


def _alerts(served: Served, headers: dict[str, str]) -> dict[str, dict[str, object]]:
    resp = requests.get(f"{served.url}/api/v1/alerts", headers=headers, timeout=10)
    resp.raise_for_status()
    return {a["id"]: a for a in resp.json()["data"]}


def test_alerts_on_kafka_show_up_in_rest_and_on_the_websocket(
        kafka_service: Settings, served_api: Served, eventually: Callable[..., None]) -> None:
    first, second = make_alert(1), make_alert(2)
    produce_alerts(kafka_service, served_api.topics.alerts, [first, second])
    headers = served_api.headers("view")
    eventually(lambda: set(_alerts(served_api, headers)) == {first.id, second.id},
               timeout=30, what="both alerts in GET /alerts")
    eventually(lambda: requests.get(f"{served_api.url}/readyz", timeout=5).status_code == 200,
               timeout=30, what="readyz")
    ws_url = served_api.url.replace("http://", "ws://") + "/api/v1/alerts/live"
    with connect(ws_url, open_timeout=10) as ws:
        ws.send(orjson.dumps({"token": login(served_api.url, "view")}).decode())
        snapshot = orjson.loads(ws.recv(timeout=10))
        assert snapshot["type"] == "snapshot"
        assert [a["id"] for a in snapshot["alerts"]] == [second.id, first.id]
        escalated = first.model_copy(update={"severity": "critical", "version": 2})
        produce_alerts(kafka_service, served_api.topics.alerts, [escalated])
        change = orjson.loads(ws.recv(timeout=20))
    assert change["type"] == "alert"
    assert (change["alert"]["id"], change["alert"]["severity"], change["alert"]["version"]) \
        == (first.id, "critical", 2)
    assert _alerts(served_api, headers)[first.id]["severity"] == "critical"


def test_acknowledge_puts_exactly_one_command_on_the_commands_topic(
        kafka_service: Settings, served_api: Served, eventually: Callable[..., None]) -> None:
    alert = make_alert(5)
    produce_alerts(kafka_service, served_api.topics.alerts, [alert])
    headers = served_api.headers("oper")
    eventually(lambda: alert.id in _alerts(served_api, headers), timeout=30,
               what="the alert in GET /alerts")
    resp = requests.post(f"{served_api.url}/api/v1/alerts/{alert.id}/acknowledge",
                         headers=headers, timeout=20)
    assert resp.status_code == 202, resp.text
    # the API waited for the broker's ack, so the command is on the topic already
    messages = read_topic(kafka_service, served_api.topics.commands)
    assert len(messages) == 1
    key, value = messages[0]
    assert key == alert.id.encode()
    command = AlertCommand.model_validate_json(value)
    assert (command.alert_id, command.action, command.by) == (alert.id, "acknowledge", "oper")
    assert orjson.loads(value)["alertId"] == alert.id  # camelCase, as the worker reads it
    assert command.command_id == resp.json()["commandId"]
    viewer = requests.post(f"{served_api.url}/api/v1/alerts/{alert.id}/resolve",
                           headers=served_api.headers("view"), timeout=20)
    assert viewer.status_code == 403
    assert len(read_topic(kafka_service, served_api.topics.commands)) == 1
