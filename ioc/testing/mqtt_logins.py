"""Throwaway MQTT identities for tests and benches, made like the real ones.

A run publishes for devices of its own (not in the registry), so it gets a gateway whose
role lists exactly those devices, or device users of their own, created through the
broker's dynamic-security plugin and deleted when the block ends. A test that watches an
existing role (a real gateway's) gets a user of its own holding that role, so it never logs
in as the real gateway and kicks it (or a running simulator) off its bound client id.

The plugin of Mosquitto 2.0 rewrites its whole file after every command, so a role is made
in parts of one command each (a 5,000-device gateway: ~90 commands, not ~10,000), and
users that a killed run left behind (their textname names a dead process) are removed
before a run provisions its own.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from ioc.core.mqtt_admin import Command, DynsecAdmin, admin_from_settings, create_client, role_parts
from ioc.core.mqtt_identities import (
    AclOrder,
    Identity,
    MqttLogin,
    Role,
    device_access,
    gateway_access,
    scan_order,
)
from ioc.core.mqtt_secrets import new_secret
from ioc.core.settings import Settings

__all__ = ["GATEWAY_DEVICES", "owner_tag", "prune_leftovers", "run_devices", "run_gateway",
           "run_gateways", "run_role_member"]

log = logging.getLogger(__name__)

_GONE = {"Client not found", "Role not found"}
_TAG = "ioc:test pid="  # textname of a run's users: the process that made them, and where
_MAX_INLINE_ROLES = 200  # createClient's role list stays far under the packet limit
# devices per throwaway gateway: the broker checks a publish against its ACLs one by one
GATEWAY_DEVICES = 250


def owner_tag() -> str:
    """The textname this process gives its throwaway users: `ioc:test pid=<pid>@<host>`."""
    return f"{_TAG}{os.getpid()}@{socket.gethostname()}"


def _dead_owner(textname: str) -> bool:
    """True if a textname names a process of this host that no longer runs."""
    if not textname.startswith(_TAG):
        return False
    pid, _, host = textname.removeprefix(_TAG).partition("@")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def _leftovers(clients: list[dict[str, Any]]) -> list[Command]:
    """Delete commands for users of dead runs and the roles only they held."""
    stale = [c for c in clients if _dead_owner(str(c.get("textname") or ""))]
    names = {c["username"] for c in stale}
    held = {r.get("rolename") for c in clients if c["username"] not in names
            for r in c.get("roles", [])}
    roles = sorted({r.get("rolename") for c in stale for r in c.get("roles", [])} - held)
    return ([{"command": "deleteClient", "username": n} for n in sorted(names)]
            + [{"command": "deleteRole", "rolename": r} for r in roles])


def prune_leftovers(conn: DynsecAdmin) -> int:
    """Remove the users (and their own roles) of runs that died before cleaning up, e.g.
    killed benches, so the plugin's file (rewritten on every command) stays small;
    returns how many commands it took."""
    answer = conn.run([{"command": "listClients", "verbose": True, "count": -1}])[0]
    commands = _leftovers(answer.get("data", {}).get("clients", []))
    if commands:
        conn.apply(commands, tolerate=_GONE)
        log.info("removed %d leftover test user(s)/role(s) of dead runs", len(commands))
    return len(commands)


def _client(ident: Identity, password: str, roles: list[str]) -> list[Command]:
    """createClient holding `roles` (addClientRole past the first few hundred), tagged."""
    command = create_client(ident, password)
    command["textname"] = owner_tag()
    command["roles"] = [{"rolename": r} for r in roles[:_MAX_INLINE_ROLES]]
    return [command, *({"command": "addClientRole", "username": ident.username,
                        "rolename": r} for r in roles[_MAX_INLINE_ROLES:])]


@contextmanager
def _provisioned(settings: Settings, pairs: list[tuple[Identity, Role]],
                 order: AclOrder = scan_order) -> Iterator[dict[str, MqttLogin]]:
    logins = {ident.username: MqttLogin(ident.username, new_secret()) for ident, _ in pairs}
    create: list[Command] = []
    delete: list[Command] = [{"command": "deleteClient", "username": i.username}
                             for i, _ in pairs]
    for ident, role in pairs:
        names, commands = role_parts(role, order=order)
        create += [*commands, *_client(ident, logins[ident.username].password, names)]
        delete += [{"command": "deleteRole", "rolename": name} for name in names]
    with admin_from_settings(settings) as conn:
        prune_leftovers(conn)
        conn.apply(delete, tolerate=_GONE)  # leftovers of an interrupted run
        conn.apply(create)
    try:
        yield logins
    finally:
        with admin_from_settings(settings) as conn:
            conn.apply(delete, tolerate=_GONE)


@contextmanager
def run_gateway(settings: Settings, name: str, domain: str,
                topics_for: Iterable[tuple[str, str]]) -> Iterator[MqttLogin]:
    """A gateway `name` that may publish for these (domain, device id) pairs only."""
    pair = gateway_access(name, domain, topics_for, kind="test")
    with _provisioned(settings, [pair]) as logins:
        yield logins[name]


@contextmanager
def run_gateways(settings: Settings, prefix: str, domain: str, device_ids: list[str],
                 per_gateway: int = GATEWAY_DEVICES, acl_order: AclOrder = scan_order,
                 ) -> Iterator[list[tuple[MqttLogin, list[str]]]]:
    """Gateways `<prefix><k>` sharing the devices, at most `per_gateway` each: (login, its
    device ids) per gateway. The broker checks a publish against the gateway's ACLs one by
    one, so a single gateway of 5,000 devices capped the broker at ~500 messages/s;
    `acl_order` is the order they are given in (a bench compares two)."""
    groups = [device_ids[i:i + per_gateway] for i in range(0, len(device_ids), per_gateway)]
    pairs = [gateway_access(f"{prefix}{k}", domain, ((domain, d) for d in group), kind="test")
             for k, group in enumerate(groups)]
    with _provisioned(settings, pairs, acl_order) as logins:
        yield [(logins[ident.username], group) for (ident, _), group in zip(pairs, groups,
                                                                            strict=True)]


@contextmanager
def run_devices(settings: Settings,
                devices: Iterable[tuple[str, str]]) -> Iterator[dict[str, MqttLogin]]:
    """Device users for (domain, device id) pairs, each bound to its id like a real one."""
    pairs = []
    for domain, device_id in devices:
        ident, role = device_access(device_id, domain)
        pairs.append((Identity(ident.username, "test", ident.role, ident.clientid), role))
    with _provisioned(settings, pairs) as logins:
        yield logins


@contextmanager
def run_role_member(settings: Settings, name: str, role: str) -> Iterator[MqttLogin]:
    """A user `name` (bound to client id `name`) holding an existing `role`; deleted after."""
    login = MqttLogin(name, new_secret())
    delete = [{"command": "deleteClient", "username": name}]
    with admin_from_settings(settings) as conn:
        conn.apply(delete, tolerate=_GONE)
        conn.apply(_client(Identity(name, "test", role, name), login.password, [role]))
    try:
        yield login
    finally:
        with admin_from_settings(settings) as conn:
            conn.apply(delete, tolerate=_GONE)
