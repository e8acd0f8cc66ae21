"""The local broker's dynamic-security state: its first administrator, and the plan that
brings the running broker in line with the registry and the secrets file.

The plan reads the plugin's own file (password hashes included, so a changed secret is
seen) and sends only the differences over MQTT, so `ioc services up` is a no-op when
nothing changed and never disconnects a device that needs no change.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ioc.core.errors import ConfigError
from ioc.core.mqtt_admin import Command, add_acl, create_client, create_role, remove_acl
from ioc.core.mqtt_identities import ADMIN_USER, Access, Acl, Identity, admin_role, scan_order
from ioc.core.private_files import write_private

__all__ = ["DEFAULT_ACCESS", "Current", "CurrentClient", "hash_secret", "initial_config",
           "load_current", "plan", "write_initial"]

ITERATIONS = 101  # the plugin's own choice for the users it creates
# Nothing is allowed unless a role says so (the plugin's default lets everyone receive).
DEFAULT_ACCESS = {"publishClientSend": False, "publishClientReceive": False,
                  "subscribe": False, "unsubscribe": True}
_MANAGED = ("ioc:device", "ioc:gateway", "ioc:bridge")


def hash_secret(secret: str, salt: bytes, iterations: int = ITERATIONS) -> str:
    """The plugin's password hash: base64 PBKDF2-HMAC-SHA512 over the raw salt."""
    digest = hashlib.pbkdf2_hmac("sha512", secret.encode(), salt, iterations)
    return base64.b64encode(digest).decode()


def initial_config(admin_password: str) -> dict[str, Any]:
    """A plugin file with the administrator only and every default access denied."""
    salt = secrets.token_bytes(12)
    role = admin_role()
    return {
        "defaultACLAccess": DEFAULT_ACCESS,
        "clients": [{"username": ADMIN_USER, "textname": "ioc:admin",
                     "roles": [{"rolename": role.name}],
                     "password": hash_secret(admin_password, salt),
                     "salt": base64.b64encode(salt).decode(), "iterations": ITERATIONS}],
        "groups": [],
        "roles": [{"rolename": role.name, "acls": [a.as_json() for a in scan_order(role.acls)]}],
    }


def write_initial(path: Path, admin_password: str) -> bool:
    """Create the plugin file (mode 0600) when it does not exist; True if created."""
    if path.exists():
        return False
    write_private(path, json.dumps(initial_config(admin_password), indent=1))
    return True


@dataclass(frozen=True, slots=True)
class CurrentClient:
    """A user as the plugin's file records it."""

    username: str
    clientid: str | None
    roles: frozenset[str]
    disabled: bool
    textname: str
    password: str
    salt: str
    iterations: int

    def accepts(self, secret: str) -> bool:
        """True if the broker would accept this secret for the user."""
        if not self.password or not self.salt:
            return False
        return hash_secret(secret, base64.b64decode(self.salt), self.iterations) == self.password


@dataclass(frozen=True, slots=True)
class Current:
    """The plugin's users, roles and default access."""

    clients: dict[str, CurrentClient]
    roles: dict[str, frozenset[Acl]]
    default_access: dict[str, bool]


def load_current(path: Path) -> Current:
    """Parse the plugin's file; ConfigError when it is unreadable."""
    try:
        data = json.loads(path.read_text())
        clients = {c["username"]: CurrentClient(
            c["username"], c.get("clientid"), frozenset(r["rolename"] for r in c.get("roles", [])),
            bool(c.get("disabled", False)), c.get("textname", ""), c.get("password", ""),
            c.get("salt", ""), int(c.get("iterations", ITERATIONS)))
            for c in data.get("clients", [])}
        roles = {r["rolename"]: frozenset(Acl(a["acltype"], a["topic"], bool(a.get("allow", True)))
                                          for a in r.get("acls", []))
                 for r in data.get("roles", [])}
        default = {k: bool(v) for k, v in data.get("defaultACLAccess", {}).items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"dynamic-security file {path} is unreadable: {exc}") from exc
    return Current(clients, roles, default)


def _role_changes(current: Current, access: Access) -> list[Command]:
    out: list[Command] = []
    for role in access.roles:
        have = current.roles.get(role.name)
        if have is None:
            out += create_role(role)
            continue
        out += [add_acl(role.name, acl) for acl in scan_order(role.acls - have)]
        out += [remove_acl(role.name, acl) for acl in sorted(have - role.acls)]
    return out


def _client_changes(have: CurrentClient, want: Identity, secret: str) -> list[Command]:
    user = {"username": want.username}
    out: list[Command] = []
    if have.clientid != want.clientid:
        out.append({"command": "setClientId", **user,
                    **({"clientid": want.clientid} if want.clientid else {})})
    if want.role not in have.roles:
        out.append({"command": "addClientRole", **user, "rolename": want.role})
    out += [{"command": "removeClientRole", **user, "rolename": role}
            for role in sorted(have.roles - {want.role})]
    if not have.accepts(secret):
        out.append({"command": "setClientPassword", **user, "password": secret})
    if have.disabled:
        out.append({"command": "enableClient", **user})
    return out


def plan(current: Current, access: Access, passwords: Mapping[str, str | None]) -> list[Command]:
    """Commands that make the broker match `access`; `passwords[user]` None means revoked."""
    out: list[Command] = []
    if any(current.default_access.get(k) != v for k, v in DEFAULT_ACCESS.items()):
        out.append({"command": "setDefaultACLAccess",
                    "acls": [{"acltype": k, "allow": v} for k, v in DEFAULT_ACCESS.items()]})
    out += _role_changes(current, access)
    wanted = {i.username for i in access.identities}
    for ident in access.identities:
        have, secret = current.clients.get(ident.username), passwords.get(ident.username)
        if secret is None:  # revoked (or never issued): it must not log in
            if have is not None and not have.disabled:
                out.append({"command": "disableClient", "username": ident.username})
        elif have is None:
            out.append(create_client(ident, secret))
        else:
            out += _client_changes(have, ident, secret)
    stale = [c for c in current.clients.values()
             if c.textname in _MANAGED and c.username not in wanted]
    out += [{"command": "deleteClient", "username": c.username} for c in stale]
    kept = {r.name for r in access.roles}
    out += [{"command": "deleteRole", "rolename": role}
            for role in sorted({r for c in stale for r in c.roles} - kept)]
    return out
