"""Per-device and per-gateway MQTT secrets: one JSON file (mode 0600) beside the credentials.

`ioc services up` generates a secret for every registry device and gateway that has none;
`ioc devices secret issue|rotate|revoke` changes one. Publishers (the simulator, the bench,
tests) read the secret of the identity they log in as. A revoked entry keeps its name and
loses its secret, so `ioc services up` does not silently issue it a new one.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ioc.core.errors import ConfigError
from ioc.core.private_files import locked, write_private
from ioc.core.settings import state_dir

__all__ = [
    "MqttSecret",
    "ensure_secrets",
    "load_secrets",
    "mqtt_secret",
    "mqtt_secrets_file",
    "new_secret",
    "save_secrets",
    "set_secret",
]

_VERSION = 1


def mqtt_secrets_file() -> Path:
    """The secrets file (`IOC_MQTT_SECRETS`, default `$IOC_STATE_DIR/mqtt-secrets.json`)."""
    return Path(os.environ.get("IOC_MQTT_SECRETS", str(state_dir() / "mqtt-secrets.json")))


@dataclass(frozen=True, slots=True)
class MqttSecret:
    """One MQTT user's secret (None once revoked) and when it last changed (UTC ISO)."""

    secret: str | None
    updated: str

    @property
    def revoked(self) -> bool:
        """True when the secret was revoked and not issued again."""
        return self.secret is None


def new_secret() -> str:
    """A fresh random secret (32 URL-safe characters, 192 bits)."""
    return secrets.token_urlsafe(24)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def load_secrets(path: Path) -> dict[str, MqttSecret]:
    """User -> secret from the file; {} when it does not exist."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
        users = data["users"]
        return {str(user): MqttSecret(entry.get("secret"), str(entry.get("updated", "")))
                for user, entry in users.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"MQTT secrets file {path} is unreadable or malformed: {exc}") from exc


def save_secrets(path: Path, entries: Mapping[str, MqttSecret]) -> None:
    """Write the file atomically with mode 0600 (its folder 0700 when created here)."""
    body = {"version": _VERSION,
            "users": {user: {"secret": e.secret, "updated": e.updated}
                      for user, e in sorted(entries.items())}}
    write_private(path, json.dumps(body, indent=1) + "\n")


def ensure_secrets(path: Path, users: Iterable[str]) -> dict[str, MqttSecret]:
    """Give every user without an entry a new secret (revoked ones stay revoked)."""
    with locked(path):  # a concurrent rotate/revoke is neither lost nor undone
        entries = load_secrets(path)
        missing = [user for user in users if user not in entries]
        if missing:
            stamp = _now()
            entries.update({user: MqttSecret(new_secret(), stamp) for user in missing})
            save_secrets(path, entries)
    return entries


def set_secret(path: Path, user: str, secret: str | None) -> MqttSecret:
    """Record a user's new secret (None: revoked) and return the entry."""
    with locked(path):
        entries = load_secrets(path)
        entries[user] = MqttSecret(secret, _now())
        save_secrets(path, entries)
    return entries[user]


def mqtt_secret(user: str, path: Path | None = None) -> str:
    """The secret `user` logs in with; ConfigError saying how to get one when absent."""
    path = path or mqtt_secrets_file()
    entry = load_secrets(path).get(user)
    if entry is None or entry.secret is None:
        state = "was revoked" if entry is not None else "has none"
        raise ConfigError(f"MQTT user {user} {state} in {path}; run `ioc services up` or "
                          f"`ioc devices secret issue {user}`")
    return entry.secret

