"""ACLs generated from the registry: each device its own topics in its own domain, each
gateway its domain's registered devices, the bridge reads, nobody else subscribes."""

from __future__ import annotations

import json

import pytest

from ioc.core.errors import ConfigError
from ioc.core.mqtt_admin import (
    MAX_BATCH_BYTES,
    batches,
    create_client,
    create_role,
    role_parts,
)
from ioc.core.mqtt_identities import (
    PUBLISH,
    RECEIVE,
    SUBSCRIBE,
    Acl,
    admin_role,
    device_access,
    gateway_access,
    registry_access,
    scan_order,
)
from ioc.core.registry import Device, Domain


def _device(device_id: str, domain: Domain) -> Device:
    facts = {"traffic": {"road": "r", "direction": "N", "free_flow_kmh": 50},
             "streetlight": {"circuit": "c", "rated_w": 100},
             "drainage": {"basin": "b", "depth_m": 2, "warn_m": 1, "critical_m": 1.5}}
    return Device.model_validate({"id": device_id, "domain": domain, "name": device_id,
                                  "ward": "tan-phu", "lat": 11.5, "lon": 106.9,
                                  "interval_s": 60, **facts[domain]})


REGISTRY = [_device("tr-1", "traffic"), _device("tr-2", "traffic"),
            _device("dr-1", "drainage")]


def test_device_may_publish_only_its_own_topics_in_its_own_domain() -> None:
    ident, role = device_access("tr-1", "traffic")
    assert ident.username == ident.clientid == "tr-1"  # bound client id
    assert role.acls == {Acl(PUBLISH, "ioc/v1/traffic/tr-1/telemetry"),
                         Acl(PUBLISH, "ioc/v1/traffic/tr-1/status")}
    assert all("+" not in a.topic and "#" not in a.topic for a in role.acls)


def test_registry_access_gateways_list_only_their_domains_devices() -> None:
    access = registry_access(REGISTRY, "ioc-bridge")
    roles = {r.name: r for r in access.roles}
    users = {i.username: i for i in access.identities}
    assert set(users) == {"tr-1", "tr-2", "dr-1", "gw-traffic", "gw-streetlight",
                          "gw-drainage", "ioc-bridge"}
    traffic = {a.topic for a in roles[users["gw-traffic"].role].acls}
    assert traffic == {"ioc/v1/traffic/gw-traffic/status",
                       *(f"ioc/v1/traffic/{d}/{k}" for d in ("tr-1", "tr-2")
                         for k in ("telemetry", "status"))}
    assert {a.topic for a in roles["ioc-gw-streetlight"].acls} == {
        "ioc/v1/streetlight/gw-streetlight/status"}
    assert all(users[u].clientid == u for u in users if u != "ioc-bridge")


def test_only_the_bridge_reads_and_it_alone_chooses_its_client_id() -> None:
    access = registry_access(REGISTRY, "ioc-bridge")
    readers = {r.name for r in access.roles
               if any(a.acltype in (SUBSCRIBE, RECEIVE) for a in r.acls)}
    assert readers == {"ioc-bridge"}
    bridge = next(i for i in access.identities if i.kind == "bridge")
    assert bridge.clientid is None
    bridge_acls = next(r for r in access.roles if r.name == "ioc-bridge").acls
    assert all(a.acltype != PUBLISH for a in bridge_acls)
    assert Acl(SUBSCRIBE, "$share/+/ioc/v1/#") in bridge_acls


def test_device_ids_may_not_clash_with_service_users() -> None:
    with pytest.raises(ConfigError, match="gw-traffic"):
        registry_access([_device("gw-traffic", "traffic")], "ioc-bridge")
    with pytest.raises(ConfigError, match="ioc-bridge"):
        registry_access([_device("ioc-bridge", "traffic")], "ioc-bridge")


def test_admin_role_reaches_the_plugin_only() -> None:
    assert {a.topic for a in admin_role().acls} == {"$CONTROL/dynamic-security/#"}


def test_big_roles_are_split_into_batches_under_the_packet_limit() -> None:
    access = registry_access([_device(f"tr-{i:04d}", "traffic") for i in range(400)],
                             "ioc-bridge")
    commands = [c for r in access.roles for c in create_role(r)]
    commands += [create_client(i, "s" * 32) for i in access.identities]
    grouped = batches(commands)
    assert [c for batch in grouped for c in batch] == commands  # all of them, in order
    assert len(grouped) > 1
    assert all(len(json.dumps({"commands": b})) <= MAX_BATCH_BYTES for b in grouped)


def test_batches_count_the_correlation_tag_of_each_command() -> None:
    commands = [{"command": "deleteRole", "rolename": f"r{i}"} for i in range(600)]
    tag = "x" * 60
    grouped = batches(commands, extra=len(', "correlationData": ""') + len(tag))
    assert [c for batch in grouped for c in batch] == commands
    tagged = [[{**c, "correlationData": tag} for c in b] for b in grouped]
    assert all(len(json.dumps({"commands": b})) <= MAX_BATCH_BYTES for b in tagged)


def test_a_big_role_is_made_in_parts_of_one_command_each() -> None:
    _, role = gateway_access("gw-x", "drainage",
                             [("drainage", f"dr-{i:05d}") for i in range(3000)])
    names, commands = role_parts(role)
    assert [c["command"] for c in commands] == ["createRole"] * len(names)
    assert [c["rolename"] for c in commands] == names == [f"ioc-gw-x.{k}"
                                                          for k in range(len(names))]
    assert len(names) < len(role.acls) / 50  # ~10,000 one-ACL commands before
    got = [Acl(a["acltype"], a["topic"], a["allow"]) for c in commands for a in c["acls"]]
    assert sorted(got) == sorted(role.acls)  # every ACL once, nothing more
    assert all(len(json.dumps(c)) + 200 <= MAX_BATCH_BYTES for c in commands)


def _topics(commands: list[dict[str, object]]) -> list[str]:
    return [a["topic"] for c in commands for a in c["acls"]]  # type: ignore[attr-defined]


def test_a_gateways_telemetry_acls_come_before_every_other_publish_acl() -> None:
    # the broker tries a client's ACLs one by one in this order, and nearly every publish
    # is telemetry: with status entries in between, a publish scanned twice as many
    _, role = gateway_access("gw-x", "drainage",
                             [("drainage", f"dr-{i:05d}") for i in range(3000)])
    for topics in (_topics(role_parts(role)[1]), [a.topic for a in scan_order(role.acls)],
                   [c.get("topic") or a["topic"] for c in create_role(role)
                    for a in c.get("acls", [{}])]):
        kinds = [t.rsplit("/", 1)[1] for t in topics]
        assert kinds == ["telemetry"] * 3000 + ["status"] * 3001
    telemetry = [t for t in _topics(role_parts(role)[1]) if t.endswith("/telemetry")]
    assert telemetry == sorted(telemetry)  # and sorted within their kind
    assert sorted(scan_order(role.acls)) == sorted(role.acls)


def test_create_client_binds_the_client_id_only_when_the_identity_is_bound() -> None:
    device, _ = device_access("tr-1", "traffic")
    assert create_client(device, "pw")["clientid"] == "tr-1"
    bridge = next(i for i in registry_access([], "ioc-bridge").identities if i.kind == "bridge")
    assert "clientid" not in create_client(bridge, "pw")
