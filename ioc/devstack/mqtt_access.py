"""Device and gateway access on a broker running the dynamic-security plugin.

`reconcile` brings the local broker in line with the registry and the secrets file (run by
`ioc services up`). `issue`, `rotate` and `revoke` change one user's secret through the
plugin's MQTT API only, so they take effect at once, on any reachable broker, without a
restart: a rotated or revoked user's open connection is closed by the plugin.
The secrets file is written first, so a later `ioc services up` converges to it even if
the broker could not be reached.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ioc.core.errors import ConfigError, ServiceError
from ioc.core.mqtt_admin import (
    Command,
    DynsecAdmin,
    add_acl,
    admin_from_settings,
    create_client,
    create_role,
)
from ioc.core.mqtt_identities import (
    ADMIN_USER,
    Acl,
    Identity,
    Role,
    device_access,
    gateway_access,
    gateway_user,
    registry_access,
    scan_order,
)
from ioc.core.mqtt_secrets import (
    ensure_secrets,
    load_secrets,
    mqtt_secrets_file,
    new_secret,
    set_secret,
)
from ioc.core.registry import Registry, load_registry
from ioc.core.settings import Settings
from ioc.core.topics import DOMAINS
from ioc.devstack.dynsec import load_current, plan

__all__ = ["SecretChange", "issue", "reconcile", "revoke", "rotate"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SecretChange:
    """What a secret command did."""

    user: str
    kind: str
    action: str  # issued | rotated | revoked | already revoked
    secret: str | None
    store: Path


def _registry(path: Path) -> Registry:
    return load_registry(path) if path.exists() else Registry([])


def reconcile(settings: Settings, dynsec_path: Path, creds: Mapping[str, str]) -> int:
    """Apply what the registry and secrets file imply; return how many commands it took."""
    bridge = creds.get("IOC_MQTT_USERNAME", settings.mqtt_username)
    access = registry_access(_registry(settings.registry), bridge)
    store = ensure_secrets(mqtt_secrets_file(),
                           [i.username for i in access.identities if i.kind != "bridge"])
    passwords: dict[str, str | None] = {user: e.secret for user, e in store.items()}
    passwords[bridge] = creds["IOC_MQTT_PASSWORD"]
    commands = plan(load_current(dynsec_path), access, passwords)
    if commands:
        try:
            with DynsecAdmin(settings.mqtt_host, settings.mqtt_port, ADMIN_USER,
                             creds["IOC_MQTT_ADMIN_PASSWORD"]) as admin:
                admin.apply(commands)
        except ServiceError as exc:
            raise ServiceError(f"{exc}. To rebuild the broker's users from the registry and "
                               "the secrets file: `ioc services down --only mosquitto`, "
                               f"delete {dynsec_path}, `ioc services up`") from exc
        log.info("mosquitto: %d access command(s) applied for %d users", len(commands),
                 len(access.identities))
    return len(commands)


def _target(user: str, registry_path: Path) -> tuple[Identity, Role, Role | None]:
    """The identity and role of `user`, and (for a device) its gateway's role."""
    registry = _registry(registry_path)
    gateways = {gateway_user(d): d for d in DOMAINS}
    if user in gateways:
        domain = gateways[user]
        ident, role = gateway_access(user, domain, ((d.domain, d.id) for d in registry
                                                   if d.domain == domain))
        return ident, role, None
    device = registry.get(user)
    if device is None:
        raise ConfigError(f"unknown device {user!r}: not in the registry {registry_path} and "
                          f"not a gateway ({', '.join(gateways)})")
    ident, role = device_access(device.id, device.domain)
    _, gateway_role = gateway_access(gateway_user(device.domain), device.domain,
                                     [(device.domain, device.id)])
    return ident, role, gateway_role


def _client(admin: DynsecAdmin, user: str) -> dict[str, Any] | None:
    answer = admin.run([{"command": "getClient", "username": user}])[0]
    client: dict[str, Any] | None = answer.get("data", {}).get("client")
    return client


def _acls(admin: DynsecAdmin, role: str) -> frozenset[Acl] | None:
    answer = admin.run([{"command": "getRole", "rolename": role}])[0]
    if "error" in answer:
        return None
    return frozenset(Acl(a["acltype"], a["topic"], bool(a.get("allow", True)))
                     for a in answer.get("data", {}).get("role", {}).get("acls", []))


def _role_commands(admin: DynsecAdmin, role: Role, create: bool) -> list[Command]:
    have = _acls(admin, role.name)
    if have is None:
        return create_role(role) if create else []
    return [add_acl(role.name, acl) for acl in scan_order(role.acls - have)]


def _reenable(client: dict[str, Any], ident: Identity, secret: str) -> list[Command]:
    """Commands that give a disabled user its binding, role and a new secret back."""
    by_user = {"username": ident.username}
    out: list[Command] = [{"command": "setClientId", **by_user, "clientid": ident.clientid}]
    if ident.role not in {r.get("rolename") for r in client.get("roles", [])}:
        out.append({"command": "addClientRole", **by_user, "rolename": ident.role})
    out.append({"command": "setClientPassword", **by_user, "password": secret})
    out.append({"command": "enableClient", **by_user})
    return out


def issue(settings: Settings, user: str, registry: Path | None = None) -> SecretChange:
    """Give a registry device or gateway that has no active secret a new one."""
    ident, role, gateway_role = _target(user, registry or settings.registry)
    with admin_from_settings(settings) as admin:
        client = _client(admin, user)
        if client is not None and not client.get("disabled"):
            raise ConfigError(f"{user} already has an active secret; use "
                              f"`ioc devices secret rotate {user}` to replace it")
        commands = _role_commands(admin, role, create=True)
        if gateway_role is not None:  # its gateway may publish for it too (if one exists)
            commands += _role_commands(admin, gateway_role, create=False)
        secret = new_secret()
        store = mqtt_secrets_file()
        set_secret(store, user, secret)
        if client is None:
            commands.append(create_client(ident, secret))
        else:
            commands += _reenable(client, ident, secret)
        admin.apply(commands)
    return SecretChange(user, ident.kind, "issued", secret, store)


def rotate(settings: Settings, user: str, registry: Path | None = None) -> SecretChange:
    """Replace an active secret; the old one is refused at once, its connection closed."""
    ident, _, _ = _target(user, registry or settings.registry)
    with admin_from_settings(settings) as admin:
        client = _client(admin, user)
        if client is None or client.get("disabled"):
            raise ConfigError(f"{user} has no active secret to rotate; use "
                              f"`ioc devices secret issue {user}`")
        secret = new_secret()
        store = mqtt_secrets_file()
        set_secret(store, user, secret)
        admin.apply([{"command": "setClientPassword", "username": user, "password": secret}])
    return SecretChange(user, ident.kind, "rotated", secret, store)


def revoke(settings: Settings, user: str, registry: Path | None = None) -> SecretChange:
    """Refuse the user's secret from now on and close its connection (issue re-enables)."""
    ident, _, _ = _target(user, registry or settings.registry)
    store = mqtt_secrets_file()
    with admin_from_settings(settings) as admin:
        client = _client(admin, user)
        entry = load_secrets(store).get(user)
        if client is None or client.get("disabled"):
            if entry is not None and entry.secret is not None:
                set_secret(store, user, None)
            return SecretChange(user, ident.kind, "already revoked", None, store)
        set_secret(store, user, None)
        admin.apply([{"command": "disableClient", "username": user}])
    return SecretChange(user, ident.kind, "revoked", None, store)
