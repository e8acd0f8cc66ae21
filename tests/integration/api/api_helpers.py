"""Fixtures of the API's integration tests: a served app over unique topics and a bucket."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import uvicorn
from fastapi import FastAPI
from kafka import KafkaProducer

from ioc.api.context import ApiTopics
from ioc.api.main import create_app
from ioc.api.users import UserStore
from ioc.core.kafka_auth import kafka_access
from ioc.core.registry import Device, Registry
from ioc.core.schemas import Alert
from ioc.core.settings import Settings
from ioc.testing.influx import ScopedBucket, scoped_bucket
from ioc.testing.kafka_topics import read_records
from ioc.testing.processes import WorkerProcess, free_port

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def make_alert(n: int, *, version: int = 1, status: str = "open") -> Alert:
    """A flood alert issued n minutes after T0."""
    issued = T0 + timedelta(minutes=n)
    return Alert(id=f"flood.level:it-{n}:{int(issued.timestamp())}", rule="flood.level",
                 subject=f"it-{n}", category="environment", sub_category="flood",
                 severity="high", status=status, ward="tan-phu",  # type: ignore[arg-type]
                 alert_source=f"it-{n}", description="mực nước vượt ngưỡng cảnh báo",
                 date_issued=issued, date_modified=issued + timedelta(seconds=version),
                 version=version)


def produce_alerts(settings: Settings, topic: str, alerts: list[Alert]) -> None:
    """Put alert states on a topic, keyed by id, and wait for the acks."""
    producer = KafkaProducer(**kafka_access(settings).client_options(), acks="all")
    try:
        for alert in alerts:
            producer.send(topic, key=alert.id.encode(), value=alert.to_json())
        producer.flush(timeout=20)
    finally:
        producer.close()


def read_topic(settings: Settings, topic: str) -> list[tuple[bytes | None, bytes]]:
    """Every (key, value) on a topic up to its current end."""
    return [(r.key, r.value) for r in read_records(settings, topic)]


@dataclass
class Served:
    """A running API: base URL, topics, the test device and a token maker."""

    url: str
    topics: ApiTopics
    device_id: str
    bucket: ScopedBucket

    def headers(self, name: str) -> dict[str, str]:
        """Authorization header for a seeded user."""
        return {"Authorization": f"Bearer {login(self.url, name)}"}


def login(url: str, name: str) -> str:
    """A bearer token of a seeded user (password 'password-<name>') from the API at `url`."""
    resp = requests.post(f"{url}/api/v1/auth/token", timeout=30,
                         data={"username": name, "password": f"password-{name}"})
    resp.raise_for_status()
    token: str = resp.json()["access_token"]
    return token


@dataclass(frozen=True)
class WorkerRun:
    """A running `ioc worker` over its own topic prefix and one drainage device."""

    prefix: str
    device_id: str
    process: WorkerProcess

    @property
    def topics(self) -> ApiTopics:
        """The worker's alerts and commands topics, for the API."""
        return ApiTopics(alerts=f"{self.prefix}ioc.alerts",
                         commands=f"{self.prefix}ioc.alert-commands")


@pytest.fixture
def influx_bucket(influx_service: Settings) -> Iterator[ScopedBucket]:
    """A unique bucket with a DBRP mapping and its own scoped tokens, deleted after."""
    with scoped_bucket(influx_service, "test-api") as bucket:
        yield bucket


def drain_device(device_id: str) -> Device:
    """A drainage device in tan-phu (warning 1.2 m, critical 1.6 m)."""
    return Device(id=device_id, domain="drainage", name="Cống thử", ward="tan-phu", lat=11.53,
                  lon=106.88, interval_s=60, basin="b1", depth_m=2, warn_m=1.2, critical_m=1.6)


ServeApi = Callable[[ApiTopics, Device], Served]


@contextmanager
def running(app: FastAPI) -> Iterator[str]:
    """Serve `app` with uvicorn in a thread on a free port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def seeded_users(path: Path) -> UserStore:
    """A users file with oper (operator) and view (viewer), passwords 'password-<name>'."""
    users = UserStore(path, iterations=1000)
    users.add("oper", "operator", "password-oper")
    users.add("view", "viewer", "password-view")
    return users


@pytest.fixture
def serve_api(kafka_service: Settings, influx_bucket: ScopedBucket,
              tmp_path: Path) -> Iterator[ServeApi]:
    """Start the real app (Kafka feed, command producer, InfluxDB reader) under uvicorn."""
    with ExitStack() as stack:
        def start(topics: ApiTopics, device: Device) -> Served:
            users = seeded_users(tmp_path / f"users-{uuid.uuid4().hex[:8]}.json")
            # the app reads the bucket with that bucket's read-only token, as in production
            app = create_app(influx_bucket.settings, registry=Registry([device]),
                             users=users, topics=topics)
            url = stack.enter_context(running(app))
            return Served(url, topics, device.id, influx_bucket)

        yield start


@pytest.fixture
def served_api(serve_api: ServeApi) -> Served:
    """The app over a unique alerts topic, commands topic, bucket and test device."""
    suffix = uuid.uuid4().hex[:10]
    topics = ApiTopics(alerts=f"test.api-alerts.{suffix}",
                       commands=f"test.api-commands.{suffix}")
    return serve_api(topics, drain_device(f"dr-it-{suffix}"))
