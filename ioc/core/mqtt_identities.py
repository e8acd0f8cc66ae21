"""Who may log in to Mosquitto and do what: MQTT identities and roles from the registry.

Every device logs in as its id with its own secret, its client id bound to that id, and
its role lets it publish only its own telemetry and status topics under its own domain.
A gateway (`gw-<domain>`) publishes for the registry's devices of its domain, each listed
(Mosquitto 2.0's dynamic-security plugin has no `%u` patterns, hence one role per device).
The bridge user only reads; it alone may choose its client id, because several bridge
instances share one user. Nobody else may subscribe.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from ioc.core.errors import ConfigError
from ioc.core.topics import DOMAINS, status_topic, telemetry_topic

__all__ = [
    "ADMIN_ROLE",
    "ADMIN_USER",
    "BRIDGE_ROLE",
    "PUBLISH",
    "RECEIVE",
    "SUBSCRIBE",
    "Access",
    "Acl",
    "AclOrder",
    "Identity",
    "MqttLogin",
    "Role",
    "admin_role",
    "bridge_access",
    "device_access",
    "gateway_access",
    "gateway_user",
    "registry_access",
    "scan_order",
]

ADMIN_USER = "ioc-admin"
ADMIN_ROLE = "ioc-admin"
BRIDGE_ROLE = "ioc-bridge"
CONTROL_FILTER = "$CONTROL/dynamic-security/#"

PUBLISH = "publishClientSend"
RECEIVE = "publishClientReceive"
SUBSCRIBE = "subscribePattern"


class _Device(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def domain(self) -> str: ...


@dataclass(frozen=True, slots=True, order=True)
class Acl:
    """One dynamic-security ACL entry."""

    acltype: str
    topic: str
    allow: bool = True

    def as_json(self) -> dict[str, Any]:
        """The plugin's JSON form."""
        return {"acltype": self.acltype, "topic": self.topic, "allow": self.allow}


AclOrder = Callable[[Iterable[Acl]], list[Acl]]  # the order a role's ACLs are given in


def scan_order(acls: Iterable[Acl]) -> list[Acl]:
    """ACLs in the order to give them to the plugin: telemetry topics first, then the rest,
    each sorted. Mosquitto 2.0's plugin checks a publish against a client's ACLs one by one
    in that order (equal priorities keep it), and nearly every publish is telemetry: a
    gateway's 250 telemetry entries no longer sit between 250 status entries."""
    return sorted(acls, key=lambda a: (not a.topic.endswith("/telemetry"), a))


@dataclass(frozen=True, slots=True)
class Role:
    """A named set of ACLs."""

    name: str
    acls: frozenset[Acl]


@dataclass(frozen=True, slots=True)
class Identity:
    """An MQTT user: its kind, its one role and the client id it is bound to (if any)."""

    username: str
    kind: str  # device | gateway | bridge | test
    role: str
    clientid: str | None

    @property
    def textname(self) -> str:
        """The plugin's free-text name; `ioc:<kind>` marks the users the project manages."""
        return f"ioc:{self.kind}"


@dataclass(frozen=True, slots=True)
class Access:
    """Identities and the roles they use."""

    identities: tuple[Identity, ...]
    roles: tuple[Role, ...]


@dataclass(frozen=True, slots=True)
class MqttLogin:
    """What a publisher connects with; the client id is the user name unless unbound."""

    username: str
    password: str
    client_id: str = ""

    @property
    def cid(self) -> str:
        """The client id to connect with."""
        return self.client_id or self.username


def gateway_user(domain: str) -> str:
    """MQTT user name of the gateway for one domain, e.g. `gw-traffic`."""
    return f"gw-{domain}"


def _publish(domain: str, device_id: str) -> list[Acl]:
    return [Acl(PUBLISH, telemetry_topic(domain, device_id)),
            Acl(PUBLISH, status_topic(domain, device_id))]


def device_access(device_id: str, domain: str) -> tuple[Identity, Role]:
    """A device: bound to its id, publishing its own telemetry and status only."""
    role = Role(f"ioc-device-{device_id}", frozenset(_publish(domain, device_id)))
    return Identity(device_id, "device", role.name, device_id), role


def gateway_access(user: str, domain: str, devices: Iterable[tuple[str, str]],
                   kind: str = "gateway") -> tuple[Identity, Role]:
    """A gateway publishing for (domain, device id) pairs, plus its own status (its will)."""
    acls = {Acl(PUBLISH, status_topic(domain, user))}
    for device_domain, device_id in devices:
        acls.update(_publish(device_domain, device_id))
    role = Role(f"ioc-{user}", frozenset(acls))
    return Identity(user, kind, role.name, user), role


def bridge_access(user: str) -> tuple[Identity, Role]:
    """The bridge: reads every device topic (shared subscriptions too), publishes nothing."""
    acls = frozenset({Acl(SUBSCRIBE, "ioc/v1/#"), Acl(SUBSCRIBE, "$share/+/ioc/v1/#"),
                      Acl(RECEIVE, "ioc/v1/#")})
    return Identity(user, "bridge", BRIDGE_ROLE, None), Role(BRIDGE_ROLE, acls)


def admin_role() -> Role:
    """The plugin's administrator: its control topics and nothing else."""
    return Role(ADMIN_ROLE, frozenset({Acl(PUBLISH, CONTROL_FILTER), Acl(RECEIVE, CONTROL_FILTER),
                                       Acl(SUBSCRIBE, CONTROL_FILTER)}))


def registry_access(devices: Iterable[_Device], bridge_user: str) -> Access:
    """Every registry device, one gateway per domain and the bridge."""
    devices = list(devices)
    reserved = {ADMIN_USER, bridge_user, *(gateway_user(d) for d in DOMAINS)}
    clash = sorted(d.id for d in devices if d.id in reserved)
    if clash:
        raise ConfigError(f"device id(s) {', '.join(clash)} clash with the MQTT users "
                          f"{', '.join(sorted(reserved))}; rename them in the registry")
    pairs = [device_access(d.id, d.domain) for d in devices]
    for domain in DOMAINS:
        pairs.append(gateway_access(gateway_user(domain), domain,
                                    ((d.domain, d.id) for d in devices if d.domain == domain)))
    pairs.append(bridge_access(bridge_user))
    return Access(tuple(i for i, _ in pairs), tuple(r for _, r in pairs))
