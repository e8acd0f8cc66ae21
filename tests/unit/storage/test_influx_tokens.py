"""Scoped-token logic: exact permissions, keep a valid token, replace anything else."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from ioc.storage.influx_tokens import (
    READ_TOKEN_KEY,
    SCOPES,
    WRITE_TOKEN_KEY,
    InfluxAdmin,
    ensure_scoped_tokens,
    grants_exactly,
    revoke_scoped_tokens,
)

ORG, BUCKET = "org1", "bkt1"


class FakeAdmin(InfluxAdmin):
    """The authorization store of one InfluxDB organization, in memory."""

    def __init__(self, auths: list[dict[str, Any]] | None = None) -> None:
        self.auths = list(auths or [])
        self.created: list[str] = []
        self.deleted: list[str] = []
        self._ids = itertools.count(100)

    def org_id(self, org: str) -> str:
        return ORG

    def bucket_id(self, org_id: str, bucket: str) -> str:
        return BUCKET

    def authorizations(self, org_id: str) -> list[dict[str, Any]]:
        return [dict(a) for a in self.auths]

    def create_authorization(self, org_id: str, description: str,
                             permissions: list[dict[str, Any]]) -> dict[str, Any]:
        n = next(self._ids)
        auth = {"id": f"a{n}", "token": f"tok{n}", "status": "active",
                "description": description, "permissions": permissions}
        self.auths.append(auth)
        self.created.append(description)
        return auth

    def delete_authorization(self, auth_id: str) -> None:
        self.deleted.append(auth_id)
        self.auths = [a for a in self.auths if a["id"] != auth_id]


def _auth(auth_id: str, token: str | None, action: str, **extra: Any) -> dict[str, Any]:
    auth = {"id": auth_id, "status": "active", "description": f"ioc-{action} ioc",
            "permissions": [{"action": action, "resource": {
                "type": "buckets", "id": BUCKET, "orgID": ORG, "name": "ioc"}}], **extra}
    if token is not None:
        auth["token"] = token
    return auth


def test_each_scope_grants_one_action_on_one_bucket() -> None:
    write, read = SCOPES
    assert (write.key, read.key) == (WRITE_TOKEN_KEY, READ_TOKEN_KEY)
    assert write.permissions(ORG, BUCKET) == [
        {"action": "write", "resource": {"type": "buckets", "id": BUCKET, "orgID": ORG}}]
    assert read.permissions(ORG, BUCKET)[0]["action"] == "read"
    assert write.description("ioc") == "ioc-write ioc" != read.description("ioc")


def test_grants_exactly_rejects_extra_rights_other_buckets_and_inactive_tokens() -> None:
    wanted = SCOPES[0].permissions(ORG, BUCKET)
    assert grants_exactly(_auth("a", "t", "write"), wanted)  # names InfluxDB adds are ignored
    broader = _auth("a", "t", "write")
    broader["permissions"].append({"action": "read", "resource": {"type": "buckets",
                                                                   "orgID": ORG}})
    assert not grants_exactly(broader, wanted)
    org_wide = _auth("a", "t", "write")
    del org_wide["permissions"][0]["resource"]["id"]
    assert not grants_exactly(org_wide, wanted)
    assert not grants_exactly(_auth("a", "t", "write", status="inactive"), wanted)
    assert not grants_exactly(_auth("a", "t", "read"), wanted)


def test_first_run_issues_both_tokens() -> None:
    admin = FakeAdmin()
    tokens = ensure_scoped_tokens(admin, "dongxoai", "ioc", {})
    assert set(tokens) == {WRITE_TOKEN_KEY, READ_TOKEN_KEY}
    assert admin.created == ["ioc-write ioc", "ioc-read ioc"] and admin.deleted == []


def test_valid_tokens_are_kept_and_nothing_is_issued() -> None:
    admin = FakeAdmin([_auth("w", "tw", "write"), _auth("r", "tr", "read")])
    current = {WRITE_TOKEN_KEY: "tw", READ_TOKEN_KEY: "tr"}
    assert ensure_scoped_tokens(admin, "dongxoai", "ioc", current) == current
    assert admin.created == [] and admin.deleted == []


@pytest.mark.parametrize("stored, listed", [
    ("", "tw"),                       # a machine set up before scoped tokens
    ("old", "tw"),                    # credentials.env holds a revoked token
    ("tw", "tw-but-inactive"),        # the authorization was deactivated
])
def test_a_token_that_is_not_valid_is_replaced_and_its_namesakes_revoked(
        stored: str, listed: str) -> None:
    inactive = listed.endswith("inactive")
    admin = FakeAdmin([_auth("w", "tw", "write", status="inactive" if inactive else "active"),
                       _auth("w2", "dup", "write"), _auth("r", "tr", "read")])
    tokens = ensure_scoped_tokens(admin, "dongxoai", "ioc",
                                  {WRITE_TOKEN_KEY: stored, READ_TOKEN_KEY: "tr"})
    assert tokens[READ_TOKEN_KEY] == "tr"
    assert tokens[WRITE_TOKEN_KEY] not in ("tw", "dup", stored)
    assert sorted(admin.deleted) == ["w", "w2"] and admin.created == ["ioc-write ioc"]


def test_a_token_with_more_rights_than_its_role_is_replaced() -> None:
    broad = _auth("w", "tw", "write")
    broad["permissions"].append({"action": "read", "resource": {"type": "buckets",
                                                                 "id": BUCKET, "orgID": ORG}})
    admin = FakeAdmin([broad, _auth("r", "tr", "read")])
    tokens = ensure_scoped_tokens(admin, "dongxoai", "ioc",
                                  {WRITE_TOKEN_KEY: "tw", READ_TOKEN_KEY: "tr"})
    assert tokens[WRITE_TOKEN_KEY] != "tw" and admin.deleted == ["w"]


def test_hashed_tokens_are_identified_by_description_and_permissions() -> None:
    # InfluxDB 2.9 no longer lists token values
    admin = FakeAdmin([_auth("w", None, "write"), _auth("r", None, "read")])
    current = {WRITE_TOKEN_KEY: "tw", READ_TOKEN_KEY: "tr"}
    assert ensure_scoped_tokens(admin, "dongxoai", "ioc", current) == current
    assert admin.created == []


def test_revoke_removes_only_this_buckets_scoped_tokens() -> None:
    other = _auth("x", "tx", "write")
    other["description"] = "ioc-write other"
    admin = FakeAdmin([_auth("w", "tw", "write"), _auth("r", "tr", "read"), other,
                       {"id": "op", "token": "admin", "description": "admin's Token"}])
    assert revoke_scoped_tokens(admin, "dongxoai", "ioc") == 2
    assert sorted(admin.deleted) == ["r", "w"]
