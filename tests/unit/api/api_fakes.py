"""Fakes for the API's adapters, injected through create_app (no network), and the `api` fixture."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from ioc.api.alert_store import AlertView
from ioc.api.influx_reader import Series
from ioc.api.main import create_app
from ioc.api.users import UserStore
from ioc.core.registry import Device, Registry
from ioc.core.schemas import Alert, AlertCommand
from ioc.core.settings import Settings

T0 = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)


@dataclass
class FakeClock:
    """Seconds since the epoch, moved by hand."""

    now: float = T0.timestamp()

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeCommands:
    """Records the commands the API sends."""

    sent: list[AlertCommand] = field(default_factory=list)
    fail: Exception | None = None

    def send(self, command: AlertCommand) -> None:
        if self.fail is not None:
            raise self.fail
        self.sent.append(command)

    def close(self) -> None:
        pass


@dataclass
class FakeReader:
    """Returns canned rows and records the queries' arguments."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    fail: Exception | None = None
    up: bool = True

    series_for: Callable[[str], list[Series]] = lambda q: []
    queries: list[str] = field(default_factory=list)

    def readings(self, *args: Any) -> list[dict[str, Any]]:
        self.calls.append(args)
        if self.fail is not None:
            raise self.fail
        return self.rows

    def series(self, q: str) -> list[Series]:
        self.queries.append(q)
        if self.fail is not None:
            raise self.fail
        return self.series_for(q)

    def ping(self) -> bool:
        return self.up

    def close(self) -> None:
        pass


@dataclass
class FakeRates:
    """Constant message rates per topic; records the topics asked for."""

    per_s: dict[str, float] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def rates(self, topic: str, since: datetime, until: datetime,
              step_s: int) -> list[tuple[int, float]]:
        self.asked.append(topic)
        start = int(since.timestamp()) // step_s * step_s
        return [(t * 1000, self.per_s.get(topic, 0.0))
                for t in range(start, int(until.timestamp()), step_s)]

    def close(self) -> None:
        pass


def make_alert(n: int, *, rule: str = "flood.level", ward: str = "tan-phu",
               severity: str = "high", status: str = "open", version: int = 1) -> Alert:
    """An alert issued n minutes after T0."""
    issued = T0 + timedelta(minutes=n)
    return Alert(id=f"{rule}:dev-{n}:{int(issued.timestamp())}", rule=rule, subject=f"dev-{n}",
                 category="environment", sub_category="flood", severity=severity,  # type: ignore[arg-type]
                 status=status, ward=ward, alert_source=f"dev-{n}",  # type: ignore[arg-type]
                 description="water over warning level", date_issued=issued,
                 date_modified=issued, version=version)


def _devices() -> list[Device]:
    return [
        Device(id="dr-001", domain="drainage", name="Cống 1", ward="tan-phu", lat=11.53,
               lon=106.88, interval_s=60, basin="b1", depth_m=2, warn_m=1.2, critical_m=1.6),
        Device(id="tr-001", domain="traffic", name="QL14", ward="tien-thanh", lat=11.49,
               lon=106.85, interval_s=60, road="ql14", direction="northbound",
               free_flow_kmh=70),
        Device(id="sl-001", domain="streetlight", name="Đèn 1", ward="tan-phu", lat=11.53,
               lon=106.88, interval_s=300, circuit="c1", rated_w=150),
    ]


@dataclass
class Api:
    """A TestClient with its fakes and a token maker."""

    client: TestClient
    view: AlertView
    commands: FakeCommands
    reader: FakeReader
    rates: FakeRates
    users: UserStore
    clock: FakeClock
    token_for: Callable[[str], str]

    def auth(self, name: str) -> dict[str, str]:
        """Authorization header for one of the seeded users."""
        return {"Authorization": f"Bearer {self.token_for(name)}"}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """The app over fakes, with users admin/oper/view (password 'password-<name>')."""
    settings = Settings(_env_file=None, api_secret=SecretStr("unit-test-secret"))  # type: ignore[call-arg]
    commands, reader, rates, clock = FakeCommands(), FakeReader(), FakeRates(), FakeClock()
    users = UserStore(tmp_path / "users.json", iterations=1000, clock=clock)
    for name, role in (("admin", "admin"), ("oper", "operator"), ("view", "viewer")):
        users.add(name, role, f"password-{name}")
    view = AlertView([make_alert(1), make_alert(2, rule="traffic.congestion", ward="tien-thanh",
                                                severity="medium"),
                      make_alert(3, severity="critical", status="acknowledged")], ready=True)
    app = create_app(settings, view=view, commands=commands, reader=reader, rates=rates,
                     registry=Registry(_devices()), users=users, clock=clock,
                     token_ttl_s=3600)
    with TestClient(app) as client:
        def token_for(name: str) -> str:
            resp = client.post("/api/v1/auth/token",
                               data={"username": name, "password": f"password-{name}"})
            assert resp.status_code == 200, resp.text
            token: str = resp.json()["access_token"]
            return token
        yield Api(client, view, commands, reader, rates, users, clock, token_for)


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll a condition with a deadline (no fixed sleeps)."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)
