"""Mosquitto's generated config and the dynamic-security plan, without a broker."""

from __future__ import annotations

import base64
import json
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from ioc.core.contract import MAX_PAYLOAD_BYTES
from ioc.core.errors import ConfigError
from ioc.core.mqtt_identities import Access, Acl, registry_access
from ioc.core.registry import Device, dump_registry
from ioc.devstack.dynsec import (
    DEFAULT_ACCESS,
    Current,
    CurrentClient,
    hash_secret,
    load_current,
    plan,
    write_initial,
)
from ioc.devstack.mosquitto import MAX_PACKET_SIZE, render_config
from ioc.devstack.mosquitto_journal import journal_mode
from ioc.devstack.mqtt_access import _target

SALT = b"0123456789ab"


def _conf(tmp_path: Path) -> dict[str, str]:
    text = render_config(tmp_path, 1883, plugin="/x/mosquitto_dynamic_security.so")
    return dict(line.split(" ", 1) for line in text.splitlines()
                if line and not line.startswith("#") and not line.startswith("log_type"))


def test_config_authenticates_through_the_plugin_only(tmp_path: Path) -> None:
    conf = _conf(tmp_path)
    assert conf["listener"] == "1883 127.0.0.1"
    assert conf["allow_anonymous"] == "false"
    assert conf["plugin"] == "/x/mosquitto_dynamic_security.so"
    assert conf["plugin_opt_config_file"] == str(tmp_path / "mosquitto" /
                                                 "dynamic-security.json")
    assert "password_file" not in conf and "acl_file" not in conf
    assert conf["persistence"] == "true"


def test_config_caps_packets_and_queues(tmp_path: Path) -> None:
    conf = _conf(tmp_path)
    # a payload at the contract's limit plus the longest device topic still fits ...
    longest_topic = len("ioc/v1/streetlight/" + "x" * 64 + "/telemetry")
    assert int(conf["max_packet_size"]) == MAX_PACKET_SIZE
    assert MAX_PAYLOAD_BYTES + longest_topic + 64 < MAX_PACKET_SIZE
    # ... and a megabyte does not
    assert MAX_PACKET_SIZE < 64 * 1024
    assert 0 < int(conf["max_queued_bytes"]) <= 256 * 1024 * 1024
    assert 0 < int(conf["max_queued_messages"]) <= 1_000_000


def test_hash_matches_what_mosquitto_ctrl_wrote() -> None:
    # from `mosquitto_ctrl dynsec init f admin adminpw` (Mosquitto 2.0.11)
    salt = base64.b64decode("HiJQvGsUMb0hAfgG")
    assert hash_secret("adminpw", salt, 101) == (
        "lUoWO3NR8iM20sSNm6/CRglJneBBHDKN9d9kEM5Uct/gClIVKukB+WeQHITzeDWyxSb7NhKTA03zPyL4+/D7Eg==")


def test_initial_file_is_private_and_holds_only_the_admin(tmp_path: Path) -> None:
    path = tmp_path / "m" / "dynamic-security.json"
    assert write_initial(path, "admin-pw")
    assert not write_initial(path, "other")  # never overwritten
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    current = load_current(path)
    assert list(current.clients) == ["ioc-admin"]
    assert current.clients["ioc-admin"].accepts("admin-pw")
    assert not current.clients["ioc-admin"].accepts("other")
    assert current.default_access == DEFAULT_ACCESS
    assert json.loads(path.read_text())["defaultACLAccess"]["publishClientReceive"] is False


def _device(device_id: str) -> Device:
    return Device(id=device_id, domain="traffic", name=device_id, ward="tan-phu", lat=11.5,
                  lon=106.9, interval_s=60, road="r", direction="N", free_flow_kmh=50)


ACCESS = registry_access([_device("tr-1"), _device("tr-2")], "ioc-bridge")
PASSWORDS: dict[str, str | None] = {i.username: f"pw-{i.username}" for i in ACCESS.identities}


def _as_current(access: Access, passwords: dict[str, str | None]) -> Current:
    """What the plugin's file would hold once `access` was applied."""
    clients = {i.username: CurrentClient(
        i.username, i.clientid, frozenset({i.role}), passwords[i.username] is None, i.textname,
        hash_secret(passwords[i.username] or "", SALT), base64.b64encode(SALT).decode(), 101)
        for i in access.identities}
    return Current(clients, {r.name: r.acls for r in access.roles}, dict(DEFAULT_ACCESS))


def _commands(current: Current, passwords: dict[str, str | None] = PASSWORDS) -> list[str]:
    return [f"{c['command']} {c.get('username') or c.get('rolename') or ''}".strip()
            for c in plan(current, ACCESS, passwords)]


def test_plan_from_nothing_creates_every_role_and_user() -> None:
    commands = _commands(Current({}, {}, {}))
    assert commands[0] == "setDefaultACLAccess"
    assert {c for c in commands if c.startswith("createClient")} == {
        f"createClient {i.username}" for i in ACCESS.identities}
    assert {c for c in commands if c.startswith("createRole")} == {
        f"createRole {r.name}" for r in ACCESS.roles}


def test_plan_is_empty_when_the_broker_already_matches() -> None:
    assert plan(_as_current(ACCESS, PASSWORDS), ACCESS, PASSWORDS) == []


def test_plan_changes_only_what_drifted() -> None:
    current = _as_current(ACCESS, {**PASSWORDS, "tr-1": "old"})
    roles = dict(current.roles)
    roles["ioc-device-tr-2"] = roles["ioc-device-tr-2"] | {Acl("publishClientSend", "#")}
    clients = dict(current.clients)
    clients["tr-2"] = replace(clients["tr-2"], clientid=None)
    clients["old-dev"] = CurrentClient("old-dev", "old-dev", frozenset({"ioc-device-old-dev"}),
                                       False, "ioc:device", "", "", 101)
    clients["someone"] = CurrentClient("someone", None, frozenset(), False, "", "", "", 101)
    drifted = Current(clients, roles, current.default_access)
    assert sorted(_commands(drifted)) == sorted([
        "setClientPassword tr-1", "removeRoleACL ioc-device-tr-2", "setClientId tr-2",
        "deleteClient old-dev", "deleteRole ioc-device-old-dev"])  # "someone" is not ours


def test_plan_disables_a_revoked_user_and_never_creates_one() -> None:
    revoked = {**PASSWORDS, "tr-1": None}
    assert _commands(_as_current(ACCESS, PASSWORDS), revoked) == ["disableClient tr-1"]
    fresh = Current({}, {}, dict(DEFAULT_ACCESS))
    assert "createClient tr-1" not in _commands(fresh, revoked)


def test_secret_commands_refuse_unknown_ids(tmp_path: Path) -> None:
    registry = tmp_path / "devices.yaml"
    dump_registry([_device("tr-1")], registry)
    assert _target("tr-1", registry)[0].username == "tr-1"
    assert _target("gw-drainage", registry)[0].kind == "gateway"
    with pytest.raises(ConfigError, match="unknown device 'tr-9'"):
        _target("tr-9", registry)


def test_config_loads_the_journal_after_dynamic_security_with_its_own_options(
        tmp_path: Path) -> None:
    text = render_config(tmp_path, 1883, plugin="/x/dynsec.so", journal="/y/journal.so")
    lines = [line for line in text.splitlines() if line.startswith("plugin")]
    # each plugin_opt_* belongs to the `plugin` line above it (Mosquitto 2.0's conf.c)
    assert lines[0] == "plugin /x/dynsec.so" and lines[1].startswith("plugin_opt_config_file")
    assert lines[2] == "plugin /y/journal.so"
    opts = dict(line.split(" ", 1) for line in lines[3:])
    assert opts["plugin_opt_journal_dir"] == str(tmp_path / "mosquitto" / "journal")
    assert opts["plugin_opt_db_file"] == str(tmp_path / "mosquitto" / "data" / "mosquitto.db")
    assert opts["plugin_opt_fsync"] == "false"
    assert "plugin_opt_fsync true" in render_config(tmp_path, 1883, journal="/y/j.so",
                                                    journal_fsync=True)
    assert "plugin_opt_journal_dir" not in render_config(tmp_path, 1883)


@pytest.mark.parametrize(("value", "mode"), [("", "on"), ("ON", "on"), ("fsync", "fsync"),
                                             ("off", "off")])
def test_journal_mode_from_the_environment(monkeypatch: pytest.MonkeyPatch, value: str,
                                           mode: str) -> None:
    monkeypatch.setenv("IOC_MOSQUITTO_JOURNAL", value)
    assert journal_mode() == mode


def test_unknown_journal_mode_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_MOSQUITTO_JOURNAL", "maybe")
    with pytest.raises(ConfigError, match="IOC_MOSQUITTO_JOURNAL='maybe'"):
        journal_mode()
