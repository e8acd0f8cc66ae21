"""KafkaAccess: the one place Settings become a Kafka client's login."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import SecretStr

from ioc.core.errors import ConfigError
from ioc.core.kafka_auth import KafkaAccess, kafka_access
from ioc.core.logging import setup_logging
from ioc.core.settings import DEV_PLACEHOLDER, Settings, load_settings


def test_sasl_login_becomes_kafka_python_and_aiokafka_keywords() -> None:
    access = KafkaAccess("k1:9092, k2:9092", username="ioc", password=SecretStr("pw"))
    assert access.client_options() == {
        "bootstrap_servers": ["k1:9092", "k2:9092"],
        "security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "ioc", "sasl_plain_password": "pw"}


def test_plaintext_has_no_login_keywords() -> None:
    assert KafkaAccess("k:9092", "PLAINTEXT").client_options() == {
        "bootstrap_servers": ["k:9092"], "security_protocol": "PLAINTEXT"}


@pytest.mark.parametrize(("username", "password"), [("", "pw"), ("ioc", "")])
def test_sasl_without_a_full_login_is_a_config_error(username: str, password: str) -> None:
    with pytest.raises(ConfigError, match="IOC_KAFKA_PASSWORD"):
        KafkaAccess("k:9092", username=username, password=SecretStr(password))


def test_placeholder_password_is_refused_whenever_sasl_is_on(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"IOC_KAFKA_PASSWORD.*placeholder"):
        KafkaAccess("k:9092", username="ioc", password=SecretStr(DEV_PLACEHOLDER))
    monkeypatch.setenv("IOC_CREDENTIALS", str(tmp_path / "none.env"))
    monkeypatch.setenv("IOC_KAFKA_PASSWORD", DEV_PLACEHOLDER)  # exported in the dev profile
    with pytest.raises(ConfigError, match="placeholder"):
        kafka_access(load_settings())
    # without SASL there is no login to refuse
    assert not KafkaAccess("k:9092", "PLAINTEXT", password=SecretStr(DEV_PLACEHOLDER)).sasl


def test_no_bootstrap_server_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="IOC_KAFKA_BOOTSTRAP"):
        KafkaAccess(" , ", "PLAINTEXT")


def test_password_stays_out_of_repr() -> None:
    access = KafkaAccess("k:9092", username="ioc", password=SecretStr("hunter2-secret"))
    assert "hunter2" not in repr(access) and "hunter2" not in str(access)


def test_with_login_keeps_brokers_and_mechanism() -> None:
    base = KafkaAccess("k:9092", "PLAINTEXT", "SCRAM-SHA-256")
    other = base.with_login("mallory", "guess").client_options()
    assert other["bootstrap_servers"] == ["k:9092"]
    assert other["security_protocol"] == "SASL_PLAINTEXT"
    assert other["sasl_mechanism"] == "SCRAM-SHA-256"
    assert (other["sasl_plain_username"], other["sasl_plain_password"]) == ("mallory", "guess")


def test_settings_default_to_sasl_scram() -> None:
    settings = Settings(kafka_password=SecretStr("pw"))
    options = kafka_access(settings).client_options()
    assert options["security_protocol"] == "SASL_PLAINTEXT"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "ioc"


def test_prod_refuses_placeholder_password_and_plaintext(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    monkeypatch.setenv("IOC_CREDENTIALS", str(tmp_path / "none.env"))
    monkeypatch.setenv("IOC_PROFILE", "prod")
    for name, field in Settings.model_fields.items():  # every other secret is a real one
        if field.annotation is SecretStr:
            monkeypatch.setenv(f"IOC_{name.upper()}", f"s3cret-{name}")
    monkeypatch.setenv("IOC_KAFKA_PASSWORD", DEV_PLACEHOLDER)
    with pytest.raises(ConfigError, match="IOC_KAFKA_PASSWORD"):
        load_settings()
    monkeypatch.setenv("IOC_KAFKA_PASSWORD", "a-real-one")
    monkeypatch.setenv("IOC_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
    with pytest.raises(ConfigError, match="IOC_KAFKA_SECURITY_PROTOCOL"):
        load_settings()
    monkeypatch.delenv("IOC_KAFKA_SECURITY_PROTOCOL")
    assert kafka_access(load_settings()).password.get_secret_value() == "a-real-one"


def test_misleading_scram_warning_is_dropped_real_errors_kept() -> None:
    names = ("kafka.net.sasl.scram", "kafka")
    saved = [logging.getLogger(n).level for n in names]
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        setup_logging("INFO")
        scram = logging.getLogger("kafka.net.sasl.scram")
        assert not scram.isEnabledFor(logging.WARNING)
        assert scram.isEnabledFor(logging.ERROR)
        assert logging.getLogger("kafka.net.manager").isEnabledFor(logging.WARNING)
    finally:
        for name, old in zip(names, saved, strict=True):
            logging.getLogger(name).setLevel(old)
        root.handlers[:] = handlers
        root.setLevel(level)
