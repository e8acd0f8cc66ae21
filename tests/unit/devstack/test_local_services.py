"""Pure pieces of the local services: credentials, Kafka properties (Mosquitto's are in
test_mosquitto_access.py)."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from ioc.core.errors import ConfigError
from ioc.core.settings import Settings, read_env_file
from ioc.devstack import manager
from ioc.devstack.credentials import (
    GENERATED_KEYS,
    ensure_credentials,
    merge_credentials,
    read_credentials,
    store_credentials,
)
from ioc.devstack.kafka import new_cluster_id, render_log4j, render_server_properties
from ioc.devstack.kafka_sasl import BrokerLogins

LOGINS = BrokerLogins(SecretStr("admin-pw"), "ioc", SecretStr("client-pw"))


def test_merge_never_overwrites() -> None:
    merged = merge_credentials({"A": "old", "B": "keep"}, {"A": "new", "C": "added"})
    assert merged == {"A": "old", "B": "keep", "C": "added"}


def test_ensure_credentials_creates_0600_and_keeps_existing(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            ) -> None:
    for key in GENERATED_KEYS:
        monkeypatch.delenv(key, raising=False)
    path = tmp_path / "credentials.env"
    path.write_text("# mine\nIOC_MQTT_PASSWORD=chosen-by-me\nOTHER='x y'\n")
    values = ensure_credentials(path, Settings())
    assert values["IOC_MQTT_PASSWORD"] == "chosen-by-me"
    assert values["OTHER"] == "x y"
    assert set(GENERATED_KEYS) <= set(values)
    assert values["IOC_INFLUX_ORG"] == "dongxoai" and values["IOC_INFLUX_BUCKET"] == "ioc"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = ensure_credentials(path, Settings())
    assert again == values == read_credentials(path, tmp_path / "admin.env")


def test_store_credentials_replaces_issued_tokens_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "credentials.env"
    path.write_text("IOC_INFLUX_TOKEN=admin\nIOC_INFLUX_WRITE_TOKEN=revoked\n")
    path.chmod(0o644)
    values = store_credentials(path, {"IOC_INFLUX_WRITE_TOKEN": "w2",
                                      "IOC_INFLUX_READ_TOKEN": "r2"})
    assert values == read_env_file(path) == {"IOC_INFLUX_TOKEN": "admin",
                                             "IOC_INFLUX_WRITE_TOKEN": "w2",
                                             "IOC_INFLUX_READ_TOKEN": "r2"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_server_properties_single_kraft_node(tmp_path: Path) -> None:
    text = render_server_properties(tmp_path / "data", "127.0.0.1:9092", LOGINS, partitions=4)
    props = dict(line.split("=", 1) for line in text.splitlines()
                 if line and not line.startswith("#"))
    assert props["process.roles"] == "broker,controller"
    assert props["node.id"] == "1"
    assert props["listeners"] == "CLIENT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:9093"
    assert props["log.dirs"] == str(tmp_path / "data")
    assert props["num.partitions"] == "4"
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["transaction.state.log.replication.factor"] == "1"
    assert props["group.initial.rebalance.delay.ms"] == "0"
    assert props["auto.create.topics.enable"] == "true"


def test_log4j_writes_to_file(tmp_path: Path) -> None:
    assert f"log4j.appender.file.File={tmp_path / 'kafka.log'}" in render_log4j(
        tmp_path / "kafka.log").splitlines()


def test_cluster_id_is_22_char_base64url() -> None:
    cid = new_cluster_id()
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", cid) and not cid.startswith("-")
    assert cid != new_cluster_id()


def test_parse_only() -> None:
    assert manager.parse_only(None) == ("mosquitto", "kafka", "influxdb")
    assert manager.parse_only("influxdb, mosquitto") == ("mosquitto", "influxdb")
    with pytest.raises(ConfigError):
        manager.parse_only("mosquitto,redis")
