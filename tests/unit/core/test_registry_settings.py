"""Registry loading/validation and the settings' secret rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from ioc.core.errors import ConfigError
from ioc.core.registry import WARDS, Device, Registry, dump_registry, load_registry
from ioc.core.settings import DEV_PLACEHOLDER, load_settings


def _lamp(device_id: str = "sl-1", **extra: object) -> Device:
    fields: dict[str, object] = dict(id=device_id, domain="streetlight", name="Đèn 1",
                                     ward="tan-xuan", lat=11.55, lon=106.91, interval_s=300,
                                     circuit="tx-c1", rated_w=100)
    fields.update(extra)
    return Device.model_validate(fields)


def test_eight_wards_with_slugs_without_diacritics() -> None:
    assert len(WARDS) == 8
    assert all(slug.isascii() for slug in WARDS)
    assert WARDS["tien-hung"].name == "Tiến Hưng"


def test_round_trip_through_yaml(tmp_path: Path) -> None:
    path = tmp_path / "devices.yaml"
    dump_registry([_lamp("sl-1"), _lamp("sl-2")], path)
    registry = load_registry(path)
    assert len(registry) == 2 and "sl-2" in registry
    assert registry.get("sl-1") == _lamp("sl-1")
    assert [d.id for d in registry.in_ward("tan-xuan", "streetlight")] == ["sl-1", "sl-2"]


def test_domain_facts_are_required() -> None:
    with pytest.raises(ValueError, match="lacks rated_w"):
        _lamp(rated_w=None)


def test_unknown_ward_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown ward"):
        _lamp(ward="atlantis")


def test_duplicate_ids_and_bad_files_raise_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="twice"):
        Registry([_lamp(), _lamp()])
    bad = tmp_path / "bad.yaml"
    bad.write_text("devices: {}\n")
    with pytest.raises(ConfigError, match="devices"):
        load_registry(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_registry(tmp_path / "missing.yaml")


def test_placeholder_secrets_refused_outside_dev(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    monkeypatch.setenv("IOC_CREDENTIALS", str(tmp_path / "none.env"))
    assert load_settings().mqtt_password.get_secret_value() == DEV_PLACEHOLDER
    monkeypatch.setenv("IOC_PROFILE", "prod")
    with pytest.raises(ConfigError, match="IOC_MQTT_PASSWORD"):
        load_settings()
    for name in ("MQTT_PASSWORD", "INFLUX_TOKEN", "API_SECRET", "KAFKA_PASSWORD"):
        monkeypatch.setenv(f"IOC_{name}", "s3cret-" + name)
    assert load_settings().profile == "prod"


def test_each_influx_role_has_its_own_token_and_a_missing_one_is_refused(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    creds = tmp_path / "credentials.env"
    creds.write_text("IOC_INFLUX_TOKEN=op\nIOC_INFLUX_WRITE_TOKEN=w\nIOC_INFLUX_READ_TOKEN=r\n")
    monkeypatch.setenv("IOC_CREDENTIALS", str(creds))
    for name in ("INFLUX_TOKEN", "INFLUX_WRITE_TOKEN", "INFLUX_READ_TOKEN"):
        monkeypatch.delenv(f"IOC_{name}", raising=False)
    s = load_settings()
    assert [s.influx_token_for(r) for r in ("admin", "write", "read")] == ["op", "w", "r"]
    creds.write_text("IOC_INFLUX_TOKEN=op\n")  # a machine set up before scoped tokens
    for profile in ("dev", "prod"):
        monkeypatch.setenv("IOC_PROFILE", profile)
        for name in ("MQTT_PASSWORD", "API_SECRET", "KAFKA_PASSWORD"):
            monkeypatch.setenv(f"IOC_{name}", "s3cret-" + name)
        s = load_settings()  # a prod reader need not hold the operator or write token
        with pytest.raises(ConfigError, match=r"IOC_INFLUX_WRITE_TOKEN is not set.*write-only"):
            s.influx_token_for("write")
        with pytest.raises(ConfigError, match=r"IOC_INFLUX_READ_TOKEN is not set.*'ioc'"):
            s.influx_token_for("read")
    monkeypatch.setenv("IOC_INFLUX_TOKEN", "")
    with pytest.raises(ConfigError, match=r"IOC_INFLUX_TOKEN is not set.*operator"):
        load_settings().influx_token_for("admin")


def test_credentials_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    creds = tmp_path / "credentials.env"
    creds.write_text("IOC_INFLUX_TOKEN=from-file\nIOC_MQTT_PORT=1999\n")
    monkeypatch.setenv("IOC_CREDENTIALS", str(creds))
    monkeypatch.delenv("IOC_MQTT_PORT", raising=False)  # a worktree's env.sh sets it
    settings = load_settings()
    assert settings.influx_token.get_secret_value() == "from-file"
    assert settings.mqtt_port == 1999
    monkeypatch.setenv("IOC_MQTT_PORT", "2000")  # the environment wins over the file
    assert load_settings().mqtt_port == 2000


def test_bridge_and_log_settings_come_from_ioc_variables(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    monkeypatch.setenv("IOC_CREDENTIALS", str(tmp_path / "none.env"))
    monkeypatch.setenv("IOC_BRIDGE_CLIENT_ID", "bridge-a")
    monkeypatch.setenv("IOC_BRIDGE_METRICS_PORT", "-1")
    monkeypatch.setenv("IOC_BRIDGE_SESSION_EXPIRY", "300")
    monkeypatch.setenv("IOC_LOG_FORMAT", "json")
    s = load_settings()
    assert (s.bridge_client_id, s.bridge_metrics_port, s.bridge_session_expiry,
            s.log_format) == ("bridge-a", -1, 300, "json")
    monkeypatch.setenv("IOC_BRIDGE_METRICS_PORT", "-2")
    with pytest.raises(ConfigError, match="bridge_metrics_port"):
        load_settings()
