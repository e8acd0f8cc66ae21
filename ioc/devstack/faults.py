"""Real faults for tests: SIGKILL a local service (no goodbye, no flush) and bring it back.

`killed(name)` kills the service `ioc services up` started and always restarts it on the
way out, also when the test body fails, so the tests after it find the stack running.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from ioc.core.errors import ServiceError
from ioc.core.settings import state_dir
from ioc.devstack import kafka
from ioc.devstack.manager import SERVICES, services_up
from ioc.devstack.process import pid_alive, running_pid

__all__ = ["Outage", "kill_service", "killed", "save_mosquitto_db", "service_pid"]

log = logging.getLogger(__name__)

# pid file under <state>/run and the command-line marker of each service's process
_PROCESSES = {"mosquitto": ("mosquitto.pid", "mosquitto"),
              "kafka": ("kafka.pid", kafka.MAIN_CLASS),
              "influxdb": ("influxd.pid", "influxd")}


def _pid_file(name: str, state: Path) -> tuple[Path, str]:
    if name not in _PROCESSES:
        raise ServiceError(f"unknown service {name!r}; choose from {', '.join(SERVICES)}")
    file, marker = _PROCESSES[name]
    return state / "run" / file, marker


def service_pid(name: str, state: Path | None = None) -> int | None:
    """The pid of the running service `ioc services up` started, or None."""
    pid_file, marker = _pid_file(name, state or state_dir())
    return running_pid(pid_file, marker)


def kill_service(name: str, state: Path | None = None, timeout: float = 30.0) -> int:
    """SIGKILL the service's process group and wait until it is gone; returns its pid.

    ServiceError if it is not running under `ioc services up` (nothing to kill).
    """
    pid = service_pid(name, state)
    if pid is None:
        raise ServiceError(f"{name} is not running under `ioc services up`: nothing to kill")
    with suppress(ProcessLookupError):  # started in its own session: the group is the service
        os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            raise ServiceError(f"{name} (pid {pid}) still alive {timeout:.0f}s after SIGKILL")
        _reap(pid)
        time.sleep(0.05)  # polling the process table with a deadline
    log.warning("%s (pid %d) killed with SIGKILL", name, pid)
    return pid


def save_mosquitto_db(state: Path | None = None, timeout: float = 15.0) -> None:
    """Have Mosquitto write its persistence file now (SIGUSR1), as its autosave does every
    `autosave_interval`; returns once the file has been rewritten."""
    state = state or state_dir()
    pid = service_pid("mosquitto", state)
    if pid is None:
        raise ServiceError("mosquitto is not running under `ioc services up`")
    db = state / "mosquitto" / "data" / "mosquitto.db"
    before = db.stat().st_mtime_ns if db.exists() else 0
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + timeout
    while not db.exists() or db.stat().st_mtime_ns == before:
        if time.monotonic() > deadline:
            raise ServiceError(f"mosquitto did not rewrite {db} within {timeout:.0f}s")
        time.sleep(0.05)  # polling the file with a deadline


def _reap(pid: int) -> None:
    """Collect the exit status when the service is our own child (restarted by a test)."""
    with suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


@dataclass
class Outage:
    """One killed service: its name, the pid killed, and when."""

    name: str
    pid: int
    killed_at: float  # time.monotonic()
    restarted_at: float | None = None

    def restart(self) -> None:
        """Start the service again (as `ioc services up` does) and wait until it answers."""
        if self.restarted_at is None:
            services_up([self.name])
            self.restarted_at = time.monotonic()
            log.warning("%s restarted %.1f s after the kill", self.name,
                        self.restarted_at - self.killed_at)


@contextmanager
def killed(name: str) -> Iterator[Outage]:
    """SIGKILL `name` now; restart it inside the block with `outage.restart()`, or on exit
    at the latest, whatever happened in the block."""
    outage = Outage(name, kill_service(name), time.monotonic())
    try:
        yield outage
    finally:
        outage.restart()
