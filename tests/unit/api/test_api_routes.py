"""HTTP routes over fakes: auth, roles, 4xx, filters, commands, devices, readings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ioc.api.influx_reader import QueryError
from ioc.core.schemas import AlertCommand
from tests.unit.api.api_fakes import T0, Api


def test_health_needs_no_token_and_ready_reflects_backends(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    assert api.client.get("/api/v1/healthz").status_code == 200
    ready = api.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["alerts"] == 3
    api.reader.up = False
    assert api.client.get("/readyz").status_code == 503


@pytest.mark.parametrize("path", ["/api/v1/alerts", "/api/v1/devices", "/api/v1/wards",
                                  "/api/v1/devices/dr-001/readings", "/api/v1/auth/me"])
def test_no_token_is_401(api: Api, path: str) -> None:
    resp = api.client.get(path)
    assert resp.status_code == 401
    assert "Bearer" in resp.headers["www-authenticate"]
    assert "not authenticated" in resp.json()["detail"]


def test_bad_login_and_bad_token_are_401(api: Api) -> None:
    resp = api.client.post("/api/v1/auth/token", data={"username": "oper", "password": "nope"})
    assert resp.status_code == 401 and "incorrect" in resp.json()["detail"]
    resp = api.client.get("/api/v1/alerts", headers={"Authorization": "Bearer ioc1.x.y"})
    assert resp.status_code == 401 and "invalid token" in resp.json()["detail"]


def test_token_expires(api: Api) -> None:
    headers = api.auth("view")
    assert api.client.get("/api/v1/alerts", headers=headers).status_code == 200
    api.clock.now += 3600
    resp = api.client.get("/api/v1/alerts", headers=headers)
    assert resp.status_code == 401 and "expired" in resp.json()["detail"]


def test_me_reports_the_current_role(api: Api) -> None:
    body = api.client.get("/api/v1/auth/me", headers=api.auth("oper")).json()
    assert (body["name"], body["role"]) == ("oper", "operator")


def test_alerts_newest_first_with_count_and_limit(api: Api) -> None:
    body = api.client.get("/api/v1/alerts", headers=api.auth("view")).json()
    assert body["count"] == 3
    assert [a["subject"] for a in body["data"]] == ["dev-3", "dev-2", "dev-1"]
    assert "dateIssued" in body["data"][0] and "alertSource" in body["data"][0]
    body = api.client.get("/api/v1/alerts?limit=1", headers=api.auth("view")).json()
    assert body["count"] == 3 and len(body["data"]) == 1


@pytest.mark.parametrize(("query", "subjects"), [
    ("status=open", ["dev-2", "dev-1"]),
    ("status=acknowledged&status=resolved", ["dev-3"]),
    ("rule=traffic.congestion", ["dev-2"]),
    ("ward=tan-phu", ["dev-3", "dev-1"]),
    ("severity=critical&severity=medium", ["dev-3", "dev-2"]),
    ("ward=tan-phu&status=open", ["dev-1"]),
    ("ward=tan-xuan", []),
])
def test_alert_filters(api: Api, query: str, subjects: list[str]) -> None:
    body = api.client.get(f"/api/v1/alerts?{query}", headers=api.auth("view")).json()
    assert [a["subject"] for a in body["data"]] == subjects


@pytest.mark.parametrize(("query", "message"), [
    ("severity=extreme", "severity"), ("status=closed", "status"), ("ward=hanoi", "tan-phu|"),
    ("rule=DROP%20TABLE", "rule"), ("limit=0", "limit"), ("limit=abc", "limit"),
])
def test_bad_filters_are_422(api: Api, query: str, message: str) -> None:
    resp = api.client.get(f"/api/v1/alerts?{query}", headers=api.auth("view"))
    assert resp.status_code == 422
    assert message in resp.text


def test_get_alert_and_unknown_is_404(api: Api) -> None:
    alert = api.view.snapshot()[0]
    resp = api.client.get(f"/api/v1/alerts/{alert.id}", headers=api.auth("view"))
    assert resp.status_code == 200 and resp.json()["id"] == alert.id
    resp = api.client.get("/api/v1/alerts/flood.level:nope:1", headers=api.auth("view"))
    assert resp.status_code == 404 and "unknown alert" in resp.json()["detail"]


def _open_alert_id(api: Api) -> str:
    return next(a.id for a in api.view.snapshot() if a.status == "open")


def test_viewer_cannot_send_commands(api: Api) -> None:
    resp = api.client.post(f"/api/v1/alerts/{_open_alert_id(api)}/acknowledge",
                           headers=api.auth("view"))
    assert resp.status_code == 403 and "operator role" in resp.json()["detail"]
    assert api.commands.sent == []


def test_acknowledge_sends_exactly_one_command_and_changes_nothing_itself(api: Api) -> None:
    alert_id = _open_alert_id(api)
    resp = api.client.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=api.auth("oper"))
    assert resp.status_code == 202
    body = resp.json()
    assert (body["alertId"], body["action"], body["by"]) == (alert_id, "acknowledge", "oper")
    assert len(api.commands.sent) == 1
    sent = api.commands.sent[0]
    assert sent == AlertCommand.model_validate(body)
    assert sent.at == datetime.fromtimestamp(api.clock.now, UTC) and sent.command_id
    assert api.view.get(alert_id).status == "open"  # type: ignore[union-attr]


def test_assign_comment_resolve(api: Api) -> None:
    alert_id, headers = _open_alert_id(api), api.auth("admin")
    base = f"/api/v1/alerts/{alert_id}"
    assert api.client.post(f"{base}/assign", json={"assignee": "đội 3"},
                           headers=headers).status_code == 202
    assert api.client.post(f"{base}/comment", json={"text": "Đã cử xe"},
                           headers=headers).status_code == 202
    assert api.client.post(f"{base}/resolve", headers=headers).status_code == 202
    assert [(c.action, c.assignee, c.text) for c in api.commands.sent] == [
        ("assign", "đội 3", None), ("comment", None, "Đã cử xe"), ("resolve", None, None)]
    assert api.client.post(f"{base}/assign", json={}, headers=headers).status_code == 422
    assert api.client.post(f"{base}/comment", json={"text": ""},
                           headers=headers).status_code == 422


def test_conflicting_and_unknown_commands(api: Api) -> None:
    acked = next(a.id for a in api.view.snapshot() if a.status == "acknowledged")
    resp = api.client.post(f"/api/v1/alerts/{acked}/acknowledge", headers=api.auth("oper"))
    assert resp.status_code == 409 and "acknowledged" in resp.json()["detail"]
    resp = api.client.post("/api/v1/alerts/nope/resolve", headers=api.auth("oper"))
    assert resp.status_code == 404
    assert api.commands.sent == []


def test_kafka_down_is_503(api: Api) -> None:
    from ioc.core.errors import ServiceError

    api.commands.fail = ServiceError("broker gone")
    resp = api.client.post(f"/api/v1/alerts/{_open_alert_id(api)}/resolve",
                           headers=api.auth("oper"))
    assert resp.status_code == 503 and "unavailable" in resp.json()["detail"]
    assert "broker gone" not in resp.text  # the backend's own text stays in the log


def test_devices_and_filters(api: Api) -> None:
    headers = api.auth("view")
    body = api.client.get("/api/v1/devices", headers=headers).json()
    assert body["count"] == 3
    body = api.client.get("/api/v1/devices?ward=tan-phu&domain=drainage", headers=headers).json()
    assert [d["id"] for d in body["data"]] == ["dr-001"]
    assert body["data"][0]["warn_m"] == 1.2
    assert api.client.get("/api/v1/devices?domain=water", headers=headers).status_code == 422
    assert api.client.get("/api/v1/devices?ward=x", headers=headers).status_code == 422
    assert api.client.get("/api/v1/devices/tr-001", headers=headers).json()["road"] == "ql14"
    assert api.client.get("/api/v1/devices/tr-999", headers=headers).status_code == 404
    assert api.client.get("/api/v1/devices/bad$id", headers=headers).status_code == 422


def test_wards_in_vietnamese(api: Api) -> None:
    wards = api.client.get("/api/v1/wards", headers=api.auth("view")).json()
    assert len(wards) == 8
    by_slug = {w["slug"]: w for w in wards}
    assert by_slug["tien-thanh"]["name"] == "Tiến Thành"
    assert by_slug["tan-phu"]["devices"] == 2


def test_readings_pass_validated_arguments_to_the_reader(api: Api) -> None:
    api.reader.rows = [{"time": "2026-06-01T02:59:00Z", "waterLevel": 1.3}]
    resp = api.client.get("/api/v1/devices/dr-001/readings",
                          params={"since": "2026-06-01T08:00:00+07:00", "limit": 10},
                          headers=api.auth("view"))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["count"] == 1 and body["measurement"] == "drainage"
    measurement, device, since, until, limit = api.reader.calls[0]
    assert (measurement, device, limit) == ("drainage", "dr-001", 10)
    assert since == datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
    assert until == T0  # default: the app clock's now


@pytest.mark.parametrize("params", [
    {"since": "2026-06-02T00:00:00Z", "until": "2026-06-01T00:00:00Z"},
    {"since": "2026-06-01T00:00:00"},  # no offset
    {"since": "yesterday"},
    {"limit": 100_000},
])
def test_bad_reading_queries_are_422(api: Api, params: dict[str, object]) -> None:
    resp = api.client.get("/api/v1/devices/dr-001/readings", params=params,
                          headers=api.auth("view"))
    assert resp.status_code == 422
    assert api.reader.calls == []


def test_influx_down_is_503(api: Api) -> None:
    api.reader.fail = QueryError("InfluxDB answered 400: error parsing query: internals")
    resp = api.client.get("/api/v1/devices/dr-001/readings", headers=api.auth("view"))
    assert resp.status_code == 503
    assert resp.json()["detail"] == "InfluxDB is unavailable; try again later"
    assert "internals" not in resp.text and resp.headers["retry-after"] == "5"


def test_console_and_docs_are_served(api: Api) -> None:
    resp = api.client.get("/")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    spec = api.client.get("/openapi.json").json()
    assert "/api/v1/alerts/{alert_id}/acknowledge" in spec["paths"]
    assert api.client.get("/docs").status_code == 200
