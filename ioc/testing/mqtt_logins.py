"""Throwaway MQTT identities for tests and benches, made like the real ones.

A run publishes for devices of its own (not in the registry), so it gets a gateway whose
role lists exactly those devices, or device users of their own, created through the
broker's dynamic-security plugin and deleted when the block ends. A test that watches an
existing role (a real gateway's) gets a user of its own holding that role, so it never logs
in as the real gateway and kicks it (or a running simulator) off its bound client id.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from ioc.core.mqtt_admin import Command, admin_from_settings, create_client, create_role
from ioc.core.mqtt_identities import (
    Identity,
    MqttLogin,
    Role,
    device_access,
    gateway_access,
)
from ioc.core.mqtt_secrets import new_secret
from ioc.core.settings import Settings

__all__ = ["run_devices", "run_gateway", "run_role_member"]

_GONE = {"Client not found", "Role not found"}


@contextmanager
def _provisioned(settings: Settings,
                 pairs: list[tuple[Identity, Role]]) -> Iterator[dict[str, MqttLogin]]:
    logins = {ident.username: MqttLogin(ident.username, new_secret()) for ident, _ in pairs}
    create: list[Command] = []
    for ident, role in pairs:
        create += [*create_role(role), create_client(ident, logins[ident.username].password)]
    delete = [{"command": "deleteClient", "username": i.username} for i, _ in pairs]
    delete += [{"command": "deleteRole", "rolename": r.name} for _, r in pairs]
    with admin_from_settings(settings) as conn:
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
        conn.apply([create_client(Identity(name, "test", role, name), login.password)])
    try:
        yield login
    finally:
        with admin_from_settings(settings) as conn:
            conn.apply(delete, tolerate=_GONE)
