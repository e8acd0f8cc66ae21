"""Alert caps on the real services: the API answers 409; the worker refuses what reaches Kafka."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from kafka import KafkaProducer

from ioc.core.alert_limits import MAX_ALERT_BYTES, MAX_COMMENT_CHARS, MAX_COMMENTS
from ioc.core.kafka_auth import kafka_access
from ioc.core.schemas import AlertCommand, AlertComment, DrainageReading, reading_to_json
from ioc.core.settings import Settings
from tests.integration.api.api_helpers import (
    T0,
    ServeApi,
    Served,
    WorkerRun,
    drain_device,
    make_alert,
    produce_alerts,
    read_topic,
)

# six bytes of JSON per character (\u0001): the worst case a comment can be
HEAVY = "\x01" * MAX_COMMENT_CHARS


def _alert(served: Served, alert_id: str) -> dict[str, object] | None:
    resp = requests.get(f"{served.url}/api/v1/alerts/{alert_id}",
                        headers=served.headers("oper"), timeout=30)
    return resp.json() if resp.status_code == 200 else None


@pytest.mark.parametrize(("count", "text", "message"), [
    (MAX_COMMENTS, "ok", f"maximum of {MAX_COMMENTS} comments"),
    (43, HEAVY, f"over the {MAX_ALERT_BYTES}-byte limit"),
])
def test_comment_past_a_cap_is_409_and_sends_nothing(
        kafka_service: Settings, served_api: Served, eventually: Callable[..., None],
        count: int, text: str, message: str) -> None:
    base = make_alert(1)
    comments = tuple(AlertComment(by="oper", at=T0 + timedelta(seconds=i), text=text)
                     for i in range(count))
    full = base.model_copy(update={"comments": comments, "version": 2})
    produce_alerts(kafka_service, served_api.topics.alerts, [full])
    eventually(lambda: (_alert(served_api, base.id) or {}).get("version") == 2, timeout=60,
               what="the alert with its comments in the API")
    resp = requests.post(f"{served_api.url}/api/v1/alerts/{base.id}/comment",
                         headers=served_api.headers("oper"), json={"text": text}, timeout=30)
    assert resp.status_code == 409 and message in resp.json()["detail"]
    assert read_topic(kafka_service, served_api.topics.commands) == []


def _flood_alert_id(served: Served, producer: KafkaProducer, prefix: str, device_id: str,
                    eventually: Callable[..., None], log: Path) -> str:
    """Send high water readings until the worker's flood.level alert is in the API."""
    def open_alerts() -> list[dict[str, object]]:
        now = datetime.now(UTC)  # keep sending: the worker may subscribe late
        reading = DrainageReading(device_id=device_id, ward="tan-phu", observed_at=now,
                                  received_at=now, water_level_m=1.45)
        producer.send(f"{prefix}ioc.telemetry", key=device_id.encode(),
                      value=reading_to_json(reading))
        producer.flush()
        resp = requests.get(f"{served.url}/api/v1/alerts", headers=served.headers("view"),
                            params={"rule": "flood.level"}, timeout=30)
        data: list[dict[str, object]] = resp.json()["data"]
        return data

    eventually(lambda: len(open_alerts()) == 1, timeout=120, interval=1.0,
               what=f"a flood.level alert from the worker (log: {log})")
    return str(open_alerts()[0]["id"])


def _past_the_caps(alert_id: str) -> list[AlertCommand]:
    """90 worst-case comments (~1.1 MB if all were applied, over Kafka's 1 MiB), an assign
    with an oversized name, then an acknowledge that must still be published."""
    at = datetime.now(UTC)
    commands = [AlertCommand(alert_id=alert_id, action="comment", by="intruder",
                             at=at + timedelta(milliseconds=i), text=HEAVY,
                             command_id=uuid.uuid4().hex) for i in range(90)]
    commands.append(AlertCommand(alert_id=alert_id, action="assign", by="intruder", at=at,
                                 assignee="a" * 500_000, command_id="big-name"))
    commands.append(AlertCommand(alert_id=alert_id, action="acknowledge", by="oper",
                                 at=at + timedelta(seconds=1), command_id="ack"))
    return commands


def test_worker_refuses_commands_past_the_caps_and_still_publishes(
        kafka_service: Settings, worker: WorkerRun, serve_api: ServeApi,
        eventually: Callable[..., None]) -> None:
    prefix, device_id, process = worker.prefix, worker.device_id, worker.process
    served = serve_api(worker.topics, drain_device(device_id))
    producer = KafkaProducer(**kafka_access(kafka_service).client_options(), acks="all",
                             max_request_size=2 * 1024 * 1024)
    try:
        alert_id = _flood_alert_id(served, producer, prefix, device_id, eventually,
                                   process.log_file)
        for cmd in _past_the_caps(alert_id):  # straight to Kafka, past the API
            producer.send(f"{prefix}ioc.alert-commands", key=alert_id.encode(),
                          value=cmd.model_dump_json(by_alias=True).encode())
        producer.flush()
    finally:
        producer.close()
    eventually(lambda: (_alert(served, alert_id) or {}).get("status") == "acknowledged",
               timeout=120, interval=1.0,
               what=f"the acknowledge published after the refused commands "
                    f"(log: {process.log_file})")
    alert = _alert(served, alert_id)
    assert alert is not None and alert["assignedTo"] is None
    comments = alert["comments"]
    assert isinstance(comments, list) and 0 < len(comments) < 90
    largest = max(len(v) for k, v in read_topic(kafka_service, f"{prefix}ioc.alerts")
                  if k == alert_id.encode())
    assert largest <= MAX_ALERT_BYTES + 4096  # every version the worker published
    assert "refused comment" in process.log(tail=10**7)
    assert process.alive()
