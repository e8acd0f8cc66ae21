"""User and token management over HTTP (admin only)."""

from __future__ import annotations

import os

import orjson

from tests.unit.api.api_fakes import Api


def test_only_admins_manage_users(api: Api) -> None:
    for name in ("view", "oper"):
        assert api.client.get("/api/v1/users", headers=api.auth(name)).status_code == 403
    names = [u["name"] for u in api.client.get("/api/v1/users", headers=api.auth("admin")).json()]
    assert names == ["admin", "oper", "view"]
    assert "password" not in api.client.get("/api/v1/users", headers=api.auth("admin")).text


def test_create_user_then_log_in(api: Api) -> None:
    headers = api.auth("admin")
    body = {"name": "ca-truc", "role": "operator", "password": "mat-khau-dai"}
    assert api.client.post("/api/v1/users", json=body, headers=headers).status_code == 201
    assert api.client.post("/api/v1/users", json=body, headers=headers).status_code == 409
    bad = {**body, "name": "x y", "role": "root"}
    assert api.client.post("/api/v1/users", json=bad, headers=headers).status_code == 422
    resp = api.client.post("/api/v1/auth/token",
                           data={"username": "ca-truc", "password": "mat-khau-dai"})
    assert resp.status_code == 200 and resp.json()["role"] == "operator"


def test_revoked_and_deleted_users_lose_their_tokens(api: Api) -> None:
    view_headers, oper_headers, admin = api.auth("view"), api.auth("oper"), api.auth("admin")
    api.clock.now += 1
    assert api.client.post("/api/v1/users/view/revoke-tokens", headers=admin).status_code == 200
    resp = api.client.get("/api/v1/alerts", headers=view_headers)
    assert resp.status_code == 401 and "revoked" in resp.json()["detail"]
    assert api.client.get("/api/v1/alerts", headers=api.auth("view")).status_code == 200
    assert api.client.delete("/api/v1/users/oper", headers=admin).status_code == 204
    assert api.client.get("/api/v1/alerts", headers=oper_headers).status_code == 401
    assert api.client.delete("/api/v1/users/oper", headers=admin).status_code == 404
    assert api.client.delete("/api/v1/users/admin", headers=admin).status_code == 409


def test_role_change_in_the_users_file_applies_to_existing_tokens(api: Api) -> None:
    headers = api.auth("oper")
    raw = orjson.loads(api.users.path.read_bytes())
    raw["users"]["oper"]["role"] = "viewer"
    api.users.path.write_bytes(orjson.dumps(raw))
    os.utime(api.users.path, ns=(0, api.users.path.stat().st_mtime_ns + 1_000_000))
    alert_id = api.view.snapshot()[0].id
    resp = api.client.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=headers)
    assert resp.status_code == 403


def test_a_re_created_user_does_not_get_the_old_tokens_back(api: Api) -> None:
    old = api.auth("oper")
    api.clock.now += 60
    api.users.delete("oper")
    api.users.add("oper", "operator", "password-oper")
    resp = api.client.get("/api/v1/alerts", headers=old)
    assert resp.status_code == 401 and "revoked" in resp.json()["detail"]
    assert api.client.get("/api/v1/alerts", headers=api.auth("oper")).status_code == 200


def test_user_names_with_a_trailing_newline_are_refused(api: Api) -> None:
    body = {"name": "admin2\n", "role": "viewer", "password": "mat-khau-dai"}
    resp = api.client.post("/api/v1/users", json=body, headers=api.auth("admin"))
    assert resp.status_code == 422
    assert api.users.get("admin2\n") is None and api.users.get("admin2") is None


def test_admin_issues_a_long_lived_token(api: Api) -> None:
    resp = api.client.post("/api/v1/users/view/token?ttl_s=86400", headers=api.auth("admin"))
    assert resp.status_code == 200
    token = resp.json()["access_token"]
    api.clock.now += 80_000
    me = api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["name"] == "view"
    assert api.client.post("/api/v1/users/ghost/token",
                           headers=api.auth("admin")).status_code == 404
