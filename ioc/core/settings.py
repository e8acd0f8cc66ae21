"""One Settings object for every process: 12-factor, `IOC_` environment variables."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ioc.core.errors import ConfigError

__all__ = [
    "DEV_PLACEHOLDER",
    "Settings",
    "credentials_file",
    "get_settings",
    "load_settings",
    "read_env_file",
    "state_dir",
]

# Accepted only under the dev profile; production must set real secrets in the environment.
DEV_PLACEHOLDER = "dev-only-change-me"

_SECRET_FIELDS = ("mqtt_password", "mqtt_gateway_password", "mqtt_device_password",
                  "influx_token", "api_secret")


def state_dir() -> Path:
    """Directory for local service data and generated credentials (`IOC_STATE_DIR`)."""
    return Path(os.environ.get("IOC_STATE_DIR", ".ioc")).resolve()


def credentials_file() -> Path:
    """The `KEY=value` file `ioc services up` writes; every command reads it by default."""
    return Path(os.environ.get("IOC_CREDENTIALS", str(state_dir() / "credentials.env")))


class Settings(BaseSettings):
    """Configuration from `IOC_*` variables, then `.ioc/credentials.env`, then defaults."""

    model_config = SettingsConfigDict(env_prefix="IOC_", extra="ignore", frozen=True)

    profile: Literal["dev", "prod"] = "dev"
    registry: Path = Path("deploy/registry/devices.yaml")
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"

    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    mqtt_username: str = "ioc-bridge"
    mqtt_password: SecretStr = SecretStr(DEV_PLACEHOLDER)
    mqtt_share_group: str = "ioc-bridge"
    # Dev profile: one password per gateway role and one shared by all device users.
    mqtt_gateway_password: SecretStr = SecretStr(DEV_PLACEHOLDER)
    mqtt_device_password: SecretStr = SecretStr(DEV_PLACEHOLDER)

    # one bridge instance: its MQTT client id (default ioc-bridge-HOST), /metrics port
    # (0: any free, -1: off) and how long the broker keeps its session while it is away
    bridge_client_id: str | None = None
    bridge_metrics_port: int = Field(default=9108, ge=-1, le=65535)
    bridge_session_expiry: int = Field(default=7 * 24 * 3600, ge=0)

    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_partitions: int = Field(default=4, ge=1)

    influx_url: str = "http://127.0.0.1:8086"
    influx_org: str = "dongxoai"
    influx_bucket: str = "ioc"
    influx_token: SecretStr = SecretStr(DEV_PLACEHOLDER)

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_secret: SecretStr = SecretStr(DEV_PLACEHOLDER)  # the API refuses it in every profile
    # request bodies and WebSocket messages; larger ones get 413 before they are read
    api_max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    api_token_ttl_s: int = Field(default=12 * 3600, ge=60, le=12 * 3600)  # login tokens
    api_readings_max_span_days: int = Field(default=31, ge=1)
    # login throttling: failed attempts per user name / per client address in a window
    api_login_failures_per_user: int = Field(default=5, ge=1)
    api_login_failures_per_address: int = Field(default=20, ge=1)
    api_login_window_s: int = Field(default=300, ge=1)
    api_login_hash_workers: int = Field(default=1, ge=1)  # threads for password hashing

    grafana_url: str = "http://127.0.0.1:3000"
    grafana_token: SecretStr | None = None

    @model_validator(mode="after")
    def _no_placeholder_outside_dev(self) -> Settings:
        if self.profile != "dev":
            for name in _SECRET_FIELDS:
                value: SecretStr = getattr(self, name)
                if value.get_secret_value() in ("", DEV_PLACEHOLDER):
                    raise ValueError(f"IOC_{name.upper()} must be set to a real secret "
                                     f"when IOC_PROFILE={self.profile}")
        return self


def read_env_file(path: Path) -> dict[str, str]:
    """Parse `KEY=value` lines (comments and blank lines ignored)."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def load_settings(**overrides: Any) -> Settings:
    """Build Settings, reading the generated credentials file when it exists."""
    env_file = credentials_file()
    try:
        return Settings(_env_file=env_file if env_file.exists() else None,  # type: ignore[call-arg]
                        **overrides)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide Settings (cached)."""
    return load_settings()
