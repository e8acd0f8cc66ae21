"""The local broker's SASL configuration, logins and their fingerprint (no broker needed)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from ioc.core.errors import ConfigError
from ioc.core.settings import DEV_PLACEHOLDER, Settings
from ioc.devstack.credentials import ensure_credentials
from ioc.devstack.kafka import render_server_properties
from ioc.devstack.kafka_sasl import (
    ADMIN_PASSWORD_KEY,
    BrokerLogins,
    broker_logins,
    logins_recorded,
    record_logins,
    redact,
    scram_format_args,
)

LOGINS = BrokerLogins(SecretStr("admin-pw"), "ioc", SecretStr("client-pw"))


def _props(**kw: bool) -> dict[str, str]:
    text = render_server_properties(Path("/data"), "127.0.0.1:9092", LOGINS, **kw)
    return dict(line.split("=", 1) for line in text.splitlines()
                if line and not line.startswith("#"))


def test_every_listener_requires_sasl() -> None:
    props = _props()
    protocols = dict(pair.split(":") for pair in props["listener.security.protocol.map"].split(","))
    listeners = [item.split("://")[0] for item in props["listeners"].split(",")]
    assert set(listeners) == set(protocols) == {"CLIENT", "CONTROLLER"}
    assert set(protocols.values()) == {"SASL_PLAINTEXT"}  # no PLAINTEXT, no anonymous login
    assert props["advertised.listeners"] == "CLIENT://127.0.0.1:9092"


def test_clients_scram_only_controller_plain_admin() -> None:
    props = _props()
    assert props["listener.name.client.sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["sasl.mechanism.inter.broker.protocol"] == "SCRAM-SHA-512"
    assert props["inter.broker.listener.name"] == "CLIENT"
    assert props["listener.name.controller.sasl.enabled.mechanisms"] == "PLAIN"
    assert props["sasl.mechanism.controller.protocol"] == "PLAIN"
    controller_jaas = props["listener.name.controller.plain.sasl.jaas.config"]
    assert 'user_admin="admin-pw"' in controller_jaas  # the only PLAIN user
    assert "client-pw" not in "\n".join(props.values())  # client secrets live in KRaft only
    assert "listener.name.client.plain.sasl.jaas.config" not in props


def test_migration_opens_plain_to_the_admin_only() -> None:
    props = _props(admin_plain=True)
    assert props["listener.name.client.sasl.enabled.mechanisms"] == "SCRAM-SHA-512,PLAIN"
    jaas = props["listener.name.client.plain.sasl.jaas.config"]
    assert jaas.count("user_") == 1 and 'user_admin="admin-pw"' in jaas


def test_format_creates_admin_and_client_scram_users() -> None:
    assert scram_format_args(LOGINS) == [
        "--add-scram", "SCRAM-SHA-512=[name=admin,password=admin-pw]",
        "--add-scram", "SCRAM-SHA-512=[name=ioc,password=client-pw]"]


def _settings(**kw: object) -> Settings:
    return Settings(**{"kafka_password": SecretStr("client-pw"), **kw})  # type: ignore[arg-type]


def test_logins_from_settings_and_credentials() -> None:
    logins = broker_logins(_settings(kafka_sasl_mechanism="SCRAM-SHA-256"),
                           {ADMIN_PASSWORD_KEY: "admin-pw"})
    assert logins.users() == {"admin": "admin-pw", "ioc": "client-pw"}
    assert logins.mechanism == "SCRAM-SHA-256"


@pytest.mark.parametrize(("settings", "admin", "message"), [
    ({"kafka_security_protocol": "PLAINTEXT"}, "a", "IOC_KAFKA_SECURITY_PROTOCOL"),
    ({"kafka_username": "admin"}, "a", "IOC_KAFKA_USERNAME"),
    ({}, "", ADMIN_PASSWORD_KEY),
    ({}, 'quo"te', ADMIN_PASSWORD_KEY),  # would end the JAAS string
    ({"kafka_password": SecretStr("a,b]")}, "a", "IOC_KAFKA_PASSWORD"),  # would split --add-scram
    # a login anyone knows (exported by hand), for the clients or the broker's admin
    ({"kafka_password": SecretStr(DEV_PLACEHOLDER)}, "a", r"IOC_KAFKA_PASSWORD.*placeholder"),
    ({}, DEV_PLACEHOLDER, rf"{ADMIN_PASSWORD_KEY}.*placeholder"),
])
def test_unusable_logins_are_config_errors(settings: dict[str, object], admin: str,
                                           message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        broker_logins(_settings(**settings), {ADMIN_PASSWORD_KEY: admin})


def test_fingerprint_matches_only_the_same_logins(tmp_path: Path) -> None:
    path = tmp_path / "logins.fingerprint"
    assert not logins_recorded(path, LOGINS)
    record_logins(path, LOGINS)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "client-pw" not in path.read_text() and "admin-pw" not in path.read_text()
    assert logins_recorded(path, LOGINS)
    changed = [BrokerLogins(LOGINS.admin_password, "ioc", SecretStr("rotated")),
               BrokerLogins(SecretStr("other"), "ioc", LOGINS.password),
               BrokerLogins(LOGINS.admin_password, "svc", LOGINS.password),
               BrokerLogins(LOGINS.admin_password, "ioc", LOGINS.password, "SCRAM-SHA-256")]
    assert not any(logins_recorded(path, other) for other in changed)
    path.write_text("garbage")
    assert not logins_recorded(path, LOGINS)


def test_redact_hides_every_secret() -> None:
    echoed = "args SCRAM-SHA-512=[name=admin,password=admin-pw] user_admin=\"admin-pw\" ioc"
    assert redact(echoed, LOGINS.users().values()) == (
        'args SCRAM-SHA-512=[name=admin,password=***] user_admin="***" ioc')


def test_services_up_generates_kafka_secrets(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("IOC_KAFKA_PASSWORD", ADMIN_PASSWORD_KEY):
        monkeypatch.delenv(key, raising=False)
    values = ensure_credentials(tmp_path / "credentials.env", Settings())
    assert values["IOC_KAFKA_USERNAME"] == "ioc"
    secrets = {values["IOC_KAFKA_PASSWORD"], values[ADMIN_PASSWORD_KEY]}
    assert len(secrets) == 2 and all(len(s) >= 32 for s in secrets)
    # the generated values fit the broker's config syntax
    generated = _settings(kafka_password=SecretStr(values["IOC_KAFKA_PASSWORD"]))
    assert broker_logins(generated, values).users()["admin"] == values[ADMIN_PASSWORD_KEY]
