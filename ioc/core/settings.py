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
    "InfluxRole",
    "Settings",
    "credentials_file",
    "get_settings",
    "load_settings",
    "read_env_file",
    "state_dir",
]

# Accepted only under the dev profile; production must set real secrets in the environment.
DEV_PLACEHOLDER = "dev-only-change-me"

# The InfluxDB tokens are not here: each process needs only its own role's token, so
# `Settings.influx_token_for` refuses a missing one when (and where) it is used.
_SECRET_FIELDS = ("mqtt_password", "mqtt_gateway_password", "mqtt_device_password",
                  "api_secret", "kafka_password")

InfluxRole = Literal["admin", "write", "read"]
_INFLUX_TOKEN_FIELDS: dict[str, str] = {"admin": "influx_token", "write": "influx_write_token",
                                        "read": "influx_read_token"}


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
    # '' = one unshared bridge: Mosquitto 2.0 does not save shared subscriptions, so after a
    # broker crash a shared group drops what arrives before its bridges subscribe again
    mqtt_share_group: str = ""
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
    # SASL/SCRAM login of every Kafka client (ioc.core.kafka_auth); PLAINTEXT only in dev,
    # for a broker of your own: the local stack's broker refuses clients that do not log in
    kafka_security_protocol: Literal["SASL_PLAINTEXT", "PLAINTEXT"] = "SASL_PLAINTEXT"
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256"] = "SCRAM-SHA-512"
    kafka_username: str = "ioc"
    kafka_password: SecretStr = SecretStr(DEV_PLACEHOLDER)

    influx_url: str = "http://127.0.0.1:8086"
    influx_org: str = "dongxoai"
    influx_bucket: str = "ioc"
    # operator (all-access) token: setup and admin work only (`ioc services up`, test
    # fixtures); the worker writes with the write token, the API and dashboards read with
    # the read one (both scoped to influx_bucket, made by `ioc services up`)
    influx_token: SecretStr = SecretStr(DEV_PLACEHOLDER)
    influx_write_token: SecretStr = SecretStr(DEV_PLACEHOLDER)
    influx_read_token: SecretStr = SecretStr(DEV_PLACEHOLDER)

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_secret: SecretStr = SecretStr(DEV_PLACEHOLDER)

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
            if self.kafka_security_protocol == "PLAINTEXT":
                raise ValueError("IOC_KAFKA_SECURITY_PROTOCOL=PLAINTEXT (no Kafka login) is "
                                 f"refused when IOC_PROFILE={self.profile}")
        return self

    def influx_token_for(self, role: InfluxRole) -> str:
        """The InfluxDB token of one role; ConfigError when it is unset (in every profile)."""
        field = _INFLUX_TOKEN_FIELDS[role]
        value: SecretStr = getattr(self, field)
        token = value.get_secret_value()
        if token in ("", DEV_PLACEHOLDER):
            rights = ("operator (all-access)" if role == "admin"
                      else f"{role}-only access to bucket {self.influx_bucket!r}")
            raise ConfigError(f"IOC_{field.upper()} is not set: `ioc services up` writes it to "
                              f"{credentials_file()}; elsewhere set it to an InfluxDB token "
                              f"with {rights}")
        return token


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
