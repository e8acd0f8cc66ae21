"""The per-device secrets file: private, atomic, never re-issuing a revoked secret."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from ioc.core.errors import ConfigError
from ioc.core.mqtt_secrets import (
    ensure_secrets,
    load_secrets,
    mqtt_secret,
    mqtt_secrets_file,
    set_secret,
)

ROUNDS = 60


def _rotate_then_revoke(path: Path, user: str, start: threading.Barrier) -> None:
    start.wait()
    for i in range(ROUNDS):
        set_secret(path, user, f"{user}-secret-{i}")
    set_secret(path, user, None)  # the last word: revoked


def _issue_new_users(path: Path, prefix: str, start: threading.Barrier) -> None:
    start.wait()
    for i in range(ROUNDS):
        ensure_secrets(path, [f"{prefix}-{i}"])


def test_ensure_generates_one_distinct_secret_per_user_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "state" / "mqtt-secrets.json"
    entries = ensure_secrets(path, ["dev-1", "dev-2", "gw-traffic"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    values = [e.secret for e in entries.values()]
    assert len(set(values)) == 3 and all(v is not None and len(v) >= 32 for v in values)
    assert load_secrets(path) == entries


def test_ensure_keeps_existing_and_revoked_entries(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    first = ensure_secrets(path, ["a", "b"])
    set_secret(path, "b", None)
    again = ensure_secrets(path, ["a", "b", "c"])
    assert again["a"] == first["a"]
    assert again["b"].revoked and again["b"].secret is None
    assert again["c"].secret is not None


def test_secret_lookup_says_how_to_get_one(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    with pytest.raises(ConfigError, match=r"has none.*ioc devices secret issue gw-x"):
        mqtt_secret("gw-x", path)
    set_secret(path, "gw-x", "s3cret")
    assert mqtt_secret("gw-x", path) == "s3cret"
    set_secret(path, "gw-x", None)
    with pytest.raises(ConfigError, match="was revoked"):
        mqtt_secret("gw-x", path)


def test_malformed_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"users": [1, 2]}')
    with pytest.raises(ConfigError, match="malformed"):
        load_secrets(path)


def test_a_world_readable_leftover_is_replaced_by_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    leftover = tmp_path / "s.json.tmp"
    leftover.write_text("old")
    leftover.chmod(0o644)
    set_secret(path, "a", "x")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_file_location_follows_the_environment(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    monkeypatch.setenv("IOC_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("IOC_MQTT_SECRETS", raising=False)
    assert mqtt_secrets_file() == tmp_path / "mqtt-secrets.json"
    monkeypatch.setenv("IOC_MQTT_SECRETS", str(tmp_path / "elsewhere.json"))
    assert mqtt_secrets_file() == tmp_path / "elsewhere.json"


def test_concurrent_writers_lose_no_update_and_revive_no_revoked_secret(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    ensure_secrets(path, ["gw-a", "gw-b"])
    start = threading.Barrier(4)
    writers = [threading.Thread(target=_rotate_then_revoke, args=(path, user, start))
               for user in ("gw-a", "gw-b")]
    writers += [threading.Thread(target=_issue_new_users, args=(path, prefix, start))
                for prefix in ("dev-x", "dev-y")]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(60)
        assert not thread.is_alive()
    entries = load_secrets(path)
    assert entries["gw-a"].revoked and entries["gw-b"].revoked  # no stale copy brought back
    issued = {f"{prefix}-{i}" for prefix in ("dev-x", "dev-y") for i in range(ROUNDS)}
    assert issued <= set(entries)  # every new user's secret survived the others' saves
    assert not list(tmp_path.glob("*.tmp"))  # no temporary file left behind
