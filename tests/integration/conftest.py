"""Integration tests run against the real local services started by `ioc services up`."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from ioc.core.admin_settings import load_admin_settings
from ioc.core.kafka_auth import kafka_access
from ioc.core.settings import Settings

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark everything under tests/integration with `integration`."""
    for item in items:
        if _HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


def _unavailable(what: str) -> None:
    message = f"{what} is not answering; start the local services with `ioc services up`"
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The tests' settings: the processes' ones plus the operator secrets (admin.env).

    Fixtures create buckets, tokens and broker users with them; the processes under test
    load credentials.env only (tests/integration/devstack/test_admin_secrets.py).
    """
    return load_admin_settings()


@pytest.fixture(scope="session")
def mqtt_service(settings: Settings) -> Settings:
    """Mosquitto accepts the bridge user, or the test is skipped (failed on CI)."""
    from ioc.devstack.mosquitto import mqtt_can_connect

    if not mqtt_can_connect(settings.mqtt_host, settings.mqtt_port, settings.mqtt_username,
                            settings.mqtt_password.get_secret_value()):
        _unavailable(f"Mosquitto at {settings.mqtt_host}:{settings.mqtt_port}")
    return settings


@pytest.fixture(scope="session")
def kafka_service(settings: Settings) -> Settings:
    """Kafka answers a metadata request, or the test is skipped (failed on CI)."""
    from ioc.devstack.kafka import kafka_answers

    if not kafka_answers(kafka_access(settings)):
        _unavailable(f"Kafka at {settings.kafka_bootstrap} (with our SASL login)")
    return settings


@pytest.fixture(scope="session")
def influx_service(settings: Settings) -> Settings:
    """InfluxDB /health passes and our token is accepted, or skip (fail on CI)."""
    import requests

    try:
        health = requests.get(f"{settings.influx_url}/health", timeout=5).json()
        orgs = requests.get(f"{settings.influx_url}/api/v2/orgs", timeout=5, headers={
            "Authorization": f"Token {settings.influx_token.get_secret_value()}"})
        ok = health.get("status") == "pass" and orgs.status_code == 200
    except (requests.RequestException, ValueError):
        ok = False
    if not ok:
        _unavailable(f"InfluxDB at {settings.influx_url}")
    return settings


@pytest.fixture
def unique_topic() -> str:
    """A fresh Kafka topic name for one test."""
    return f"test.{uuid.uuid4().hex[:12]}"


def wait_for(condition: Callable[[], bool], timeout: float = 20.0, interval: float = 0.05,
             what: str = "condition") -> None:
    """Poll `condition` until true; fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


@pytest.fixture
def eventually() -> Callable[..., None]:
    """The `wait_for(condition, timeout=..., what=...)` poller as a fixture."""
    return wait_for
