"""The whole loop: readings → `ioc worker` → alert in the API → acknowledge → worker → WebSocket."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import orjson
import requests
from kafka import KafkaProducer
from websockets.sync.client import connect

from ioc.core.kafka_auth import kafka_access
from ioc.core.schemas import DrainageReading, reading_to_json
from ioc.core.settings import Settings
from tests.integration.api.api_helpers import ServeApi, WorkerRun, drain_device, login


def test_acknowledge_through_the_worker_reaches_the_websocket(
        kafka_service: Settings, worker: WorkerRun, serve_api: ServeApi,
        eventually: Callable[..., None]) -> None:
    prefix, device_id, log = worker.prefix, worker.device_id, worker.process.log_file
    served = serve_api(worker.topics, drain_device(device_id))
    headers = served.headers("oper")
    producer = KafkaProducer(**kafka_access(kafka_service).client_options(), acks="all")

    def flood_alerts() -> list[dict[str, object]]:
        now = datetime.now(UTC)  # keep sending: the worker may subscribe after the first ones
        reading = DrainageReading(device_id=device_id, ward="tan-phu", observed_at=now,
                                  received_at=now, water_level_m=1.45)
        producer.send(f"{prefix}ioc.telemetry", key=device_id.encode(),
                      value=reading_to_json(reading))
        producer.flush()
        resp = requests.get(f"{served.url}/api/v1/alerts", params={"rule": "flood.level"},
                            headers=headers, timeout=10)
        data: list[dict[str, object]] = resp.json()["data"]
        return data

    try:
        eventually(lambda: len(flood_alerts()) == 1, timeout=90, interval=1.0,
                   what=f"a flood.level alert via the worker (log: {log})")
    finally:
        producer.close()
    alert = requests.get(f"{served.url}/api/v1/alerts", headers=headers,
                         timeout=10).json()["data"][0]
    assert (alert["subject"], alert["status"], alert["severity"]) == (device_id, "open", "high")
    ws_url = served.url.replace("http://", "ws://") + "/api/v1/alerts/live"
    with connect(ws_url, open_timeout=10) as ws:
        ws.send(orjson.dumps({"token": login(served.url, "view")}).decode())
        assert orjson.loads(ws.recv(timeout=10))["type"] == "snapshot"
        resp = requests.post(f"{served.url}/api/v1/alerts/{alert['id']}/acknowledge",
                             headers=headers, timeout=20)
        assert resp.status_code == 202, resp.text
        change = orjson.loads(ws.recv(timeout=60))
    assert change["alert"]["id"] == alert["id"]
    assert (change["alert"]["status"], change["alert"]["acknowledgedBy"]) \
        == ("acknowledged", "oper")
    again = requests.post(f"{served.url}/api/v1/alerts/{alert['id']}/acknowledge",
                          headers=headers, timeout=20)
    assert again.status_code == 409
