"""`ioc services up|down|status`: the three local services in dependency order."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ioc.core.admin_settings import admin_credentials_file, load_admin_settings
from ioc.core.errors import ConfigError
from ioc.core.settings import credentials_file, state_dir
from ioc.devstack import influxdb, kafka, mosquitto
from ioc.devstack.credentials import ensure_credentials, read_credentials
from ioc.devstack.filemodes import private_umask, secure_tree
from ioc.devstack.process import ServiceStatus

__all__ = ["SERVICES", "UpResult", "parse_only", "services_down", "services_status",
           "services_up"]

log = logging.getLogger(__name__)

SERVICES = ("mosquitto", "kafka", "influxdb")

Progress = Callable[[str, str], None]


@dataclass(frozen=True)
class UpResult:
    """Outcome of starting one service."""

    name: str
    action: str
    seconds: float


def parse_only(only: str | None) -> tuple[str, ...]:
    """Validate a comma-separated service list (None or '' means all, in order)."""
    if not only:
        return SERVICES
    wanted = {name.strip() for name in only.split(",") if name.strip()}
    unknown = wanted - set(SERVICES)
    if unknown:
        raise ConfigError(f"unknown service(s) {', '.join(sorted(unknown))}; "
                          f"choose from {', '.join(SERVICES)}")
    return tuple(name for name in SERVICES if name in wanted)


def services_up(names: Iterable[str] = SERVICES,
                progress: Progress = lambda name, msg: None) -> list[UpResult]:
    """Start (or leave running) each service and wait until it really answers.

    Everything under the state dir is made private to this user (0700/0600), including
    what older versions left readable and what the started services will write.
    """
    state = state_dir()
    with private_umask():
        try:
            return _up(state, names, progress)
        finally:
            secure_tree(state)


def _up(state: Path, names: Iterable[str], progress: Progress) -> list[UpResult]:
    state.mkdir(parents=True, exist_ok=True)
    creds = ensure_credentials(credentials_file(), load_admin_settings(),
                               admin_credentials_file())
    settings = load_admin_settings()
    results = []
    for name in names:
        started = time.monotonic()

        def report(message: str, _name: str = name) -> None:
            progress(_name, message)

        if name == "mosquitto":
            action = mosquitto.start(settings, state, creds, report)
        elif name == "kafka":
            action = kafka.start(settings, state, creds, report)
        else:
            action = influxdb.start(settings, state, creds, report)
        results.append(UpResult(name, action, time.monotonic() - started))
        log.info("%s: %s", name, action)
    return results


def services_down(names: Iterable[str] = SERVICES) -> dict[str, bool]:
    """Stop the services this tool started (reverse order); name -> was running."""
    state = state_dir()
    stops = {"mosquitto": mosquitto.stop, "kafka": kafka.stop, "influxdb": influxdb.stop}
    return {name: stops[name](state) for name in reversed(tuple(names))}


def services_status(names: Iterable[str] = SERVICES) -> list[ServiceStatus]:
    """Version, address and health of each service."""
    state = state_dir()
    settings = load_admin_settings()
    creds = read_credentials(credentials_file(), admin_credentials_file())
    out = []
    for name in names:
        if name == "mosquitto":
            out.append(mosquitto.status(settings, state, creds))
        elif name == "kafka":
            out.append(kafka.status(settings, state))
        else:
            out.append(influxdb.status(settings, state, creds))
    return out
