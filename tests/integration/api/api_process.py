"""A real `ioc api serve` process over the local services, with its own state dir and users."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from ioc.api.users import UserStore
from ioc.core.settings import Settings, credentials_file
from ioc.testing.processes import ChildProcess, free_port

__all__ = ["ApiProcess", "api_process", "start_api_process"]


@dataclass
class ApiProcess:
    """The served API: its URL, process (log file) and users file."""

    url: str
    child: ChildProcess
    users: UserStore

    def log(self) -> str:
        """Everything the process wrote so far."""
        return self.child.log(tail=10**8)


def start_api_process(state: Path, env: dict[str, str] | None = None) -> ApiProcess:
    """`ioc api serve` on a free port; users boss (admin), oper, view at the real PBKDF2 cost."""
    state.mkdir(parents=True, exist_ok=True)
    creds = state / "credentials.env"
    shutil.copy(credentials_file(), creds)  # ensure_dev_admin may append to its copy only
    users = UserStore(state / "api-users.json")  # the real iteration count: the real cost
    for name, role in (("boss", "admin"), ("oper", "operator"), ("view", "viewer")):
        users.add(name, role, f"password-{name}")
    port = free_port()
    child = ChildProcess("api", [sys.executable, "-m", "ioc", "api", "serve"],
                         state / "api.log",
                         env={"IOC_STATE_DIR": str(state), "IOC_CREDENTIALS": str(creds),
                              "IOC_API_HOST": "127.0.0.1", "IOC_API_PORT": str(port),
                              "IOC_LOG_LEVEL": "INFO", **(env or {})})
    child.start()
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return requests.get(f"{url}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    try:
        child.wait_until(healthy, timeout=60, what="/healthz")
    except Exception:
        child.stop(10)
        raise
    return ApiProcess(url, child, users)


@pytest.fixture
def api_process(kafka_service: Settings, influx_service: Settings,
                tmp_path: Path) -> Iterator[Callable[..., ApiProcess]]:
    """Start `ioc api serve` processes (stopped after the test)."""
    started: list[ApiProcess] = []

    def start(env: dict[str, str] | None = None) -> ApiProcess:
        served = start_api_process(tmp_path / f"api-{len(started)}", env)
        started.append(served)
        return served

    try:
        yield start
    finally:
        for served in started:
            served.child.stop(20)
