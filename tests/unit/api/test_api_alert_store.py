"""The API's live view over the core fold: tombstones, bad records, and the feed thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import cast

import pytest
from kafka.errors import KafkaError
from starlette.websockets import WebSocketDisconnect

from ioc.api.alert_store import AlertView, KafkaAlertFeed
from ioc.core.alerts_topic import AlertsTopicReader, Record, Removed
from ioc.core.kafka_auth import KafkaAccess
from ioc.core.schemas import Alert
from tests.unit.api.api_fakes import Api, make_alert, wait_until


def rec(a: Alert) -> Record:
    """The record the worker publishes for this state."""
    return Record(a.id.encode(), a.to_json())


def test_records_fold_like_everywhere_else() -> None:
    view = AlertView([make_alert(1)])
    newer = make_alert(1, status="resolved", version=2)
    assert view.apply_record(rec(newer)) == newer
    assert view.apply_record(rec(make_alert(1))) is None  # older
    assert view.apply_record(Record(b"x", b"garbage")) is None
    assert view.undecodable == 1
    assert view.apply_record(Record(newer.id.encode(), None)) == Removed(newer)
    assert len(view) == 0 and view.get(newer.id) is None


def test_a_deletion_tells_live_clients_to_reload(api: Api) -> None:
    gone = api.view.snapshot()[0]
    with api.client.websocket_connect("/api/v1/alerts/live") as ws:
        ws.send_json({"token": api.token_for("view")})
        assert ws.receive_json()["type"] == "snapshot"
        api.view.apply_record(Record(gone.id.encode(), None))
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_json()
    assert info.value.code == 1013
    assert gone.id not in {a["id"] for a in api.client.get(
        "/api/v1/alerts", headers=api.auth("view")).json()["data"]}


class FakeReader:
    """Sessions of records; a session ending in an exception raises it."""

    topic = "ioc.alerts"

    def __init__(self, *sessions: list[Record | Exception | None]) -> None:
        self._sessions = list(sessions)

    def records(self, *, follow: bool,
                stop: threading.Event | None = None) -> Iterator[Record | None]:
        assert follow and stop is not None
        for item in self._sessions.pop(0) if self._sessions else []:
            if isinstance(item, Exception):
                raise item
            yield item
        stop.wait()


def test_the_feed_follows_and_goes_on_after_a_failure() -> None:
    first, second = make_alert(1), make_alert(2)
    reader = FakeReader([rec(first), None, KafkaError("broker went away")],
                        [Record(first.id.encode(), None), rec(second)])
    view = AlertView()
    feed = KafkaAlertFeed(KafkaAccess("unused:9092", "PLAINTEXT"), "ioc.alerts",
                          reader=cast(AlertsTopicReader, reader))
    feed.start(view)
    try:
        wait_until(lambda: view.ready and [a.id for a in view.snapshot()] == [second.id],
                   timeout=10)
    finally:
        feed.stop()
