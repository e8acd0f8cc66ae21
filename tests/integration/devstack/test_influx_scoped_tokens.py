"""The scoped InfluxDB tokens `ioc services up` issues, attacked on the real InfluxDB.

The write token (worker) and the read token (API, dashboards, Grafana) come from
.ioc/credentials.env exactly as the processes get them; each test tries what its holder
must not be able to do and checks that nothing happened.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from ioc.core.settings import Settings
from ioc.devstack.influxdb import ensure_tokens
from ioc.storage.influx_tokens import READ_TOKEN_KEY, SCOPES, WRITE_TOKEN_KEY, InfluxAdmin
from ioc.testing.influx import ScopedBucket, scoped_bucket

REFUSED = (401, 403, 404)
MEASUREMENT = "test_scoped_tokens"  # one series per test (tag run), deleted afterwards


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


def _write(s: Settings, token: str, bucket: str, line: str) -> requests.Response:
    return requests.post(f"{s.influx_url}/api/v2/write", headers=_h(token), data=line,
                         params={"org": s.influx_org, "bucket": bucket, "precision": "ns"},
                         timeout=10)


def _influxql(s: Settings, token: str, db: str, q: str) -> tuple[int, dict[str, Any]]:
    response = requests.post(f"{s.influx_url}/query", params={"db": db, "q": q},
                             headers=_h(token), timeout=10)
    return response.status_code, response.json()


def _selector(series: str) -> str:
    run = series.split("run=", 1)[1]
    return f"FROM \"{MEASUREMENT}\" WHERE \"run\" = '{run}'"


def _rows(s: Settings, token: str, db: str, series: str) -> list[Any]:
    """The points of one series (`test_scoped_tokens,run=…`), as [time, run, v] rows."""
    status, body = _influxql(s, token, db, f"SELECT \"run\", \"v\" {_selector(series)}")
    assert status == 200 and "error" not in body["results"][0], body
    found = body["results"][0].get("series") or []
    return list(found[0]["values"]) if found else []


def _series() -> str:
    """A fresh series key for line protocol: `test_scoped_tokens,run=<unique>`."""
    return f"{MEASUREMENT},run={uuid.uuid4().hex[:10]}"


@pytest.fixture(autouse=True)
def _clean_ioc_bucket(influx_service: Settings) -> Iterator[None]:
    """Delete the probe points these tests wrote into the real bucket."""
    yield
    s = influx_service
    requests.post(f"{s.influx_url}/api/v2/delete", headers=_h(s.influx_token_for("admin")),
                  params={"org": s.influx_org, "bucket": s.influx_bucket}, timeout=10,
                  json={"start": "1970-01-01T00:00:00Z", "stop": "2100-01-01T00:00:00Z",
                        "predicate": f'_measurement="{MEASUREMENT}"'}).raise_for_status()


def _ids(s: Settings, bucket: str) -> tuple[str, str]:
    """(org id, bucket id), looked up with the operator token."""
    admin = InfluxAdmin(s.influx_url, s.influx_token_for("admin"))
    try:
        org_id = admin.org_id(s.influx_org)
        return org_id, admin.bucket_id(org_id, bucket)
    finally:
        admin.close()


def _bucket_exists(s: Settings, name: str) -> bool:
    response = requests.get(f"{s.influx_url}/api/v2/buckets", headers=_h(s.influx_token_for(
        "admin")), params={"org": s.influx_org, "name": name}, timeout=10)
    return bool(response.json().get("buckets"))


@pytest.fixture
def tokens(influx_service: Settings) -> tuple[str, str]:
    """(write, read) tokens from credentials.env; neither is the operator token."""
    s = influx_service
    write, read = s.influx_token_for("write"), s.influx_token_for("read")
    assert len({write, read, s.influx_token_for("admin")}) == 3
    return write, read


@pytest.fixture
def other_bucket(influx_service: Settings) -> Iterator[ScopedBucket]:
    with scoped_bucket(influx_service, "test-attack") as bucket:
        yield bucket


def test_issued_tokens_grant_exactly_one_action_on_the_ioc_bucket(
        influx_service: Settings, tokens: tuple[str, str]) -> None:
    s = influx_service
    admin = InfluxAdmin(s.influx_url, s.influx_token_for("admin"))
    try:
        org_id = admin.org_id(s.influx_org)
        bucket_id = admin.bucket_id(org_id, s.influx_bucket)
        by_token = {a.get("token"): a for a in admin.authorizations(org_id)}
    finally:
        admin.close()
    for token, scope in zip(tokens, SCOPES, strict=True):
        auth = by_token[token]
        assert auth["description"] == scope.description(s.influx_bucket)
        assert [(p["action"], p["resource"]["type"], p["resource"]["id"])
                for p in auth["permissions"]] == [(scope.action, "buckets", bucket_id)]


def test_read_token_cannot_write_delete_or_mint_tokens(
        influx_service: Settings, tokens: tuple[str, str],
        eventually: Callable[..., None]) -> None:
    s, (write, read) = influx_service, tokens
    series, bucket = _series(), s.influx_bucket
    assert _write(s, write, bucket, f"{series} v=1 {time.time_ns()}").status_code == 204
    eventually(lambda: len(_rows(s, read, bucket, series)) == 1, timeout=10,
               what="the control point, read with the read token")

    assert _write(s, read, bucket, f"{series} v=2 {time.time_ns()}").status_code in (401,
                                                                                        403)
    v1 = requests.post(f"{s.influx_url}/write", params={"db": bucket}, headers=_h(read),
                       data=f"{series} v=3", timeout=10)
    assert v1.status_code in (401, 403)
    status, body = _influxql(s, read, bucket, f"DROP SERIES {_selector(series)}")
    assert status in REFUSED or "error" in body["results"][0]
    deleted = requests.post(f"{s.influx_url}/api/v2/delete", headers=_h(read), timeout=10,
                            params={"org": s.influx_org, "bucket": bucket},
                            json={"start": "1970-01-01T00:00:00Z", "stop": "2100-01-01T00:00:00Z",
                                  "predicate": f'_measurement="{MEASUREMENT}"'})
    assert deleted.status_code in (401, 403)
    org_id, bucket_id = _ids(s, bucket)
    gone = requests.delete(f"{s.influx_url}/api/v2/buckets/{bucket_id}", headers=_h(read),
                           timeout=10)
    assert gone.status_code in REFUSED and _bucket_exists(s, bucket)
    minted = requests.post(f"{s.influx_url}/api/v2/authorizations", headers=_h(read),
                           timeout=10, json={"orgID": org_id, "permissions": [
                               {"action": "write", "resource": {"type": "buckets",
                                                                "orgID": org_id}}]})
    assert minted.status_code in (401, 403)
    # nothing landed and nothing was removed: still exactly the control point
    assert [row[2] for row in _rows(s, read, bucket, series)] == [1]


def test_write_token_cannot_read_with_influxql_or_flux(
        influx_service: Settings, tokens: tuple[str, str],
        eventually: Callable[..., None]) -> None:
    s, (write, read) = influx_service, tokens
    series = _series()
    assert _write(s, write, s.influx_bucket, f"{series} v=7").status_code == 204
    eventually(lambda: len(_rows(s, read, s.influx_bucket, series)) == 1, timeout=10,
               what="the point, read with the read token")

    status, body = _influxql(s, write, s.influx_bucket, f"SELECT * {_selector(series)}")
    assert status in REFUSED or ("error" in body["results"][0]
                                 and "series" not in body["results"][0]), body
    flux = requests.post(f"{s.influx_url}/api/v2/query", params={"org": s.influx_org},
                         headers={**_h(write), "Content-Type": "application/vnd.flux"},
                         data=f'from(bucket: "{s.influx_bucket}") |> range(start: -1h)',
                         timeout=10)
    assert flux.status_code in REFUSED and series.split("run=")[1] not in flux.text
    listed = requests.get(f"{s.influx_url}/api/v2/buckets", headers=_h(write), timeout=10)
    assert listed.status_code in REFUSED or listed.json().get("buckets") == []


def test_write_token_cannot_touch_another_bucket(
        influx_service: Settings, tokens: tuple[str, str], other_bucket: ScopedBucket,
        eventually: Callable[..., None]) -> None:
    s, (write, read) = influx_service, tokens
    other, series = other_bucket.name, _series()
    own_write = other_bucket.settings.influx_token_for("write")
    own_read = other_bucket.settings.influx_token_for("read")
    assert _write(s, own_write, other, f"{series} v=1").status_code == 204
    eventually(lambda: len(_rows(s, own_read, other, series)) == 1, timeout=10,
               what="the control point in the other bucket")

    assert _write(s, write, other, f"{series} v=2").status_code in REFUSED
    v1 = requests.post(f"{s.influx_url}/write", params={"db": other}, headers=_h(write),
                       data=f"{series} v=3", timeout=10)
    assert v1.status_code in REFUSED
    _, bucket_id = _ids(s, other)
    gone = requests.delete(f"{s.influx_url}/api/v2/buckets/{bucket_id}", headers=_h(write),
                           timeout=10)
    assert gone.status_code in REFUSED and _bucket_exists(s, other)
    # the ioc read token cannot read that bucket either
    status, body = _influxql(s, read, other, f"SELECT * {_selector(series)}")
    assert status in REFUSED or "series" not in body["results"][0], body
    assert [row[2] for row in _rows(s, own_read, other, series)] == [1]


def test_tokens_are_kept_when_valid_and_reissued_when_revoked(
        influx_service: Settings, other_bucket: ScopedBucket, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine set up before scoped tokens: `ioc services up` issues them, then keeps them."""
    s, name = influx_service, other_bucket.name
    creds_file = tmp_path / "credentials.env"
    monkeypatch.setenv("IOC_CREDENTIALS", str(creds_file))
    creds = {"IOC_INFLUX_TOKEN": s.influx_token_for("admin"), "IOC_INFLUX_ORG": s.influx_org,
             "IOC_INFLUX_BUCKET": name}
    first = ensure_tokens(s.influx_url, creds)  # no tokens yet: both are issued
    assert first.keys() == {WRITE_TOKEN_KEY, READ_TOKEN_KEY}
    assert first[WRITE_TOKEN_KEY] != other_bucket.settings.influx_token_for("write")
    assert f"{WRITE_TOKEN_KEY}={first[WRITE_TOKEN_KEY]}" in creds_file.read_text()
    assert creds_file.stat().st_mode & 0o077 == 0
    # the fixture's own tokens had the same descriptions: replaced, so revoked
    assert _write(s, other_bucket.settings.influx_token_for("write"), name,
                  "m v=1").status_code in (401, 403)

    again = ensure_tokens(s.influx_url, {**creds, **first})
    assert again == first
    assert _write(s, first[WRITE_TOKEN_KEY], name, "m v=1").status_code == 204

    stale = ensure_tokens(s.influx_url, {**creds, **first, WRITE_TOKEN_KEY: "stale"})
    assert stale[READ_TOKEN_KEY] == first[READ_TOKEN_KEY]
    assert stale[WRITE_TOKEN_KEY] not in (first[WRITE_TOKEN_KEY], "stale")
    assert _write(s, first[WRITE_TOKEN_KEY], name, "m v=2").status_code in (401, 403)
    assert _write(s, stale[WRITE_TOKEN_KEY], name, "m v=2").status_code == 204
