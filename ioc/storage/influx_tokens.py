"""Scoped InfluxDB tokens: what the storage writer and the readers may do, and minting them.

The writer's token may only write the one bucket; the readers' token (API, `ioc dashboards
check`, Grafana) may only read it, which is all InfluxQL `/query` needs through the bucket's
DBRP mapping. Minting and revoking takes the operator (all-access) token: setup and tests
only. InfluxDB 2.x has no right finer than bucket write, so the write token can also delete
points and the bucket itself (docs/security.md).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import requests

from ioc.core.errors import ServiceError

__all__ = [
    "READ_TOKEN_KEY",
    "SCOPES",
    "WRITE_TOKEN_KEY",
    "InfluxAdmin",
    "TokenScope",
    "ensure_scoped_tokens",
    "grants_exactly",
    "revoke_scoped_tokens",
]

log = logging.getLogger(__name__)

WRITE_TOKEN_KEY = "IOC_INFLUX_WRITE_TOKEN"
READ_TOKEN_KEY = "IOC_INFLUX_READ_TOKEN"


@dataclass(frozen=True)
class TokenScope:
    """One role's token: the variable that carries it and the one bucket action it grants."""

    key: str
    action: Literal["read", "write"]

    def description(self, bucket: str) -> str:
        """How `ioc` names (and later finds) this role's authorization for `bucket`."""
        return f"ioc-{self.action} {bucket}"

    def permissions(self, org_id: str, bucket_id: str) -> list[dict[str, Any]]:
        """The authorization's permission list: this action on this bucket, nothing else."""
        return [{"action": self.action,
                 "resource": {"type": "buckets", "id": bucket_id, "orgID": org_id}}]


SCOPES = (TokenScope(WRITE_TOKEN_KEY, "write"), TokenScope(READ_TOKEN_KEY, "read"))


def _grant(permission: Mapping[str, Any]) -> tuple[str, str, str, str]:
    resource = permission.get("resource") or {}
    return (str(permission.get("action")), str(resource.get("type")),
            str(resource.get("id")), str(resource.get("orgID")))


def grants_exactly(auth: Mapping[str, Any], wanted: list[dict[str, Any]]) -> bool:
    """Whether an authorization is active and grants exactly the `wanted` permissions."""
    have = {_grant(p) for p in auth.get("permissions") or []}
    return auth.get("status") == "active" and have == {_grant(p) for p in wanted}


class InfluxAdmin:
    """The few `/api/v2` calls that need the operator token (org, bucket, authorizations)."""

    def __init__(self, url: str, token: str, timeout_s: float = 5.0) -> None:
        self._url, self._timeout = url.rstrip("/"), timeout_s
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Token {token}"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._session.request(method, f"{self._url}{path}",
                                             timeout=self._timeout, **kwargs)
        except requests.RequestException as exc:
            raise ServiceError(f"InfluxDB at {self._url} is unreachable: {exc}") from exc
        if response.status_code >= 300:
            raise ServiceError(f"InfluxDB {method} {path}: HTTP {response.status_code} "
                               f"{response.text[:200]}")
        return response.json() if response.content else None

    def org_id(self, org: str) -> str:
        """The id of the organization named `org`."""
        found = self._call("GET", "/api/v2/orgs", params={"org": org}).get("orgs") or []
        if not found:
            raise ServiceError(f"InfluxDB: organization {org!r} does not exist")
        return str(found[0]["id"])

    def bucket_id(self, org_id: str, bucket: str) -> str:
        """The id of the bucket named `bucket` in the organization."""
        found = self._call("GET", "/api/v2/buckets",
                           params={"orgID": org_id, "name": bucket}).get("buckets") or []
        if not found:
            raise ServiceError(f"InfluxDB: bucket {bucket!r} does not exist")
        return str(found[0]["id"])

    def authorizations(self, org_id: str) -> list[dict[str, Any]]:
        """Every authorization (token) of the organization."""
        body = self._call("GET", "/api/v2/authorizations", params={"orgID": org_id})
        return list(body.get("authorizations") or [])

    def create_authorization(self, org_id: str, description: str,
                             permissions: list[dict[str, Any]]) -> dict[str, Any]:
        """A new authorization; its `token` is only ever shown here."""
        body = {"orgID": org_id, "description": description, "permissions": permissions}
        created: dict[str, Any] = self._call("POST", "/api/v2/authorizations", json=body)
        return created

    def delete_authorization(self, auth_id: str) -> None:
        """Revoke one authorization."""
        self._call("DELETE", f"/api/v2/authorizations/{auth_id}")

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self._session.close()


def _still_valid(auth: Mapping[str, Any], token: str, wanted: list[dict[str, Any]]) -> bool:
    # InfluxDB 2.7 lists token values; a server that hashes them (2.9+) leaves the field out,
    # and then the description + exact permissions have to identify ours.
    return bool(token) and auth.get("token", token) == token and grants_exactly(auth, wanted)


def ensure_scoped_tokens(admin: InfluxAdmin, org: str, bucket: str,
                         current: Mapping[str, str]) -> dict[str, str]:
    """Key -> token for the write and read roles on `bucket` (idempotent).

    A token in `current` whose authorization still exists, is active and grants exactly
    its role's permissions is kept; otherwise every authorization with the role's
    description is revoked and a new one is created.
    """
    org_id = admin.org_id(org)
    bucket_id = admin.bucket_id(org_id, bucket)
    auths = admin.authorizations(org_id)
    tokens: dict[str, str] = {}
    for scope in SCOPES:
        description, wanted = scope.description(bucket), scope.permissions(org_id, bucket_id)
        ours = [a for a in auths if a.get("description") == description]
        token = current.get(scope.key, "")
        keep = next((a for a in ours if _still_valid(a, token, wanted)), None)
        for auth in ours:
            if auth is not keep:
                admin.delete_authorization(str(auth["id"]))
        if keep is None:
            token = str(admin.create_authorization(org_id, description, wanted)["token"])
            log.info("influxdb: created %s token %r", scope.action, description)
        tokens[scope.key] = token
    return tokens


def revoke_scoped_tokens(admin: InfluxAdmin, org: str, bucket: str) -> int:
    """Revoke the write and read authorizations `ioc` made for `bucket`; how many."""
    descriptions = {scope.description(bucket) for scope in SCOPES}
    ours = [a for a in admin.authorizations(admin.org_id(org))
            if a.get("description") in descriptions]
    for auth in ours:
        admin.delete_authorization(str(auth["id"]))
    return len(ours)
