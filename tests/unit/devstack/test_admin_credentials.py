"""Operator secrets live in admin.env, apart from the credentials.env every process loads."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from ioc.core.admin_settings import ADMIN_KEYS, admin_credentials_file, load_admin_settings
from ioc.core.errors import ConfigError
from ioc.core.settings import DEV_PLACEHOLDER, Settings, load_settings, read_env_file
from ioc.devstack.credentials import GENERATED_KEYS, ensure_credentials


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty state dir, no credentials from the environment."""
    for key in (*GENERATED_KEYS, "IOC_CREDENTIALS", "IOC_ADMIN_CREDENTIALS",
                "IOC_INFLUX_WRITE_TOKEN", "IOC_INFLUX_READ_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("IOC_STATE_DIR", str(tmp_path))
    return tmp_path


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_files_keep_operator_secrets_in_admin_env_only(state: Path) -> None:
    values = ensure_credentials(state / "credentials.env", Settings())
    shared, admin = read_env_file(state / "credentials.env"), read_env_file(state / "admin.env")
    assert set(admin) == set(ADMIN_KEYS)
    assert not set(ADMIN_KEYS) & set(shared)
    assert {**shared, **admin} == values
    assert _mode(state / "credentials.env") == _mode(state / "admin.env") == 0o600


def test_old_credentials_env_is_migrated_and_admin_env_wins(state: Path) -> None:
    creds, admin = state / "credentials.env", state / "admin.env"
    creds.write_text("IOC_INFLUX_TOKEN=op-token\nIOC_MQTT_ADMIN_PASSWORD=old-mqtt\n"
                     "IOC_KAFKA_ADMIN_PASSWORD=kafka-admin\nIOC_API_SECRET=api-secret\n")
    creds.chmod(0o644)
    admin.write_text("IOC_MQTT_ADMIN_PASSWORD=kept-mqtt\n")
    admin.chmod(0o644)
    values = ensure_credentials(creds, Settings())
    moved = read_env_file(admin)
    assert moved["IOC_INFLUX_TOKEN"] == "op-token"
    assert moved["IOC_KAFKA_ADMIN_PASSWORD"] == "kafka-admin"
    assert moved["IOC_MQTT_ADMIN_PASSWORD"] == "kept-mqtt"  # admin.env's value wins
    left = read_env_file(creds)
    assert left["IOC_API_SECRET"] == "api-secret"
    assert not set(ADMIN_KEYS) & set(left)
    assert values["IOC_INFLUX_TOKEN"] == "op-token" and values["IOC_API_SECRET"] == "api-secret"
    assert _mode(creds) == _mode(admin) == 0o600
    assert ensure_credentials(creds, Settings()) == values  # stable on the next run


def test_process_settings_hold_no_operator_secret(state: Path) -> None:
    ensure_credentials(state / "credentials.env", Settings())
    admin = read_env_file(admin_credentials_file())
    process = load_settings()
    assert process.influx_token.get_secret_value() == DEV_PLACEHOLDER
    assert process.mqtt_admin_password is None
    held = {v.get_secret_value() if isinstance(v, SecretStr) else str(v)
            for v in dict(process).values()}
    assert not set(admin.values()) & held
    with pytest.raises(ConfigError, match=r"IOC_INFLUX_TOKEN is not set.*admin\.env"):
        process.influx_token_for("admin")
    tooling = load_admin_settings()
    assert tooling.influx_token_for("admin") == admin["IOC_INFLUX_TOKEN"]
    assert tooling.mqtt_admin_password is not None
    assert tooling.mqtt_admin_password.get_secret_value() == admin["IOC_MQTT_ADMIN_PASSWORD"]
    assert tooling.api_secret == process.api_secret  # the shared values still come through


def test_admin_credentials_path_from_env(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert admin_credentials_file() == state / "admin.env"
    monkeypatch.setenv("IOC_ADMIN_CREDENTIALS", str(state / "elsewhere.env"))
    assert admin_credentials_file() == state / "elsewhere.env"
