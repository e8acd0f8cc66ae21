"""InfluxQL building: whitelisted measurement, validated ids, every value quoted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ioc.api.influx_reader import (
    QueryError,
    build_readings_query,
    quote_ident,
    quote_string,
    rows_from_result,
)
from ioc.core.city import TZ

SINCE = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
UNTIL = datetime(2026, 6, 1, 7, 0, tzinfo=TZ)  # = 00:00 UTC


def test_query_shape() -> None:
    q = build_readings_query("drainage", "dr-001_A", SINCE, UNTIL, 50)
    assert q == ("SELECT * FROM \"drainage\" WHERE \"device\" = 'dr-001_A' "
                 "AND time >= '2026-06-01T00:00:00.000000Z' "
                 "AND time <= '2026-06-01T00:00:00.000000Z' ORDER BY time DESC LIMIT 50")


@pytest.mark.parametrize("device_id", [
    "x' OR 1=1 --", "a;DROP MEASUREMENT drainage", "dev\"", "dev\\", "", "a" * 65,
    "dev 1", "dev\n1", "ĐX-1",
])
def test_device_ids_outside_the_contract_are_refused(device_id: str) -> None:
    with pytest.raises(ValueError, match="device id"):
        build_readings_query("drainage", device_id, SINCE, UNTIL, 10)


@pytest.mark.parametrize("measurement", ["alerts", "drainage\" ; DROP", "", "Traffic"])
def test_only_domain_measurements(measurement: str) -> None:
    with pytest.raises(ValueError, match="measurement"):
        build_readings_query(measurement, "dr-001", SINCE, UNTIL, 10)


def test_limits_and_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        build_readings_query("traffic", "t1", SINCE, UNTIL, 0)
    with pytest.raises(ValueError, match="limit"):
        build_readings_query("traffic", "t1", SINCE, UNTIL, 10_001)
    with pytest.raises(ValueError, match="offset"):
        build_readings_query("traffic", "t1", datetime(2026, 1, 1), UNTIL, 1)


def test_quoting_escapes_quotes_and_backslashes() -> None:
    assert quote_string("it's") == "'it\\'s'"
    assert quote_string("a\\'b") == "'a\\\\\\'b'"
    assert quote_ident('we"ird') == '"we\\"ird"'
    with pytest.raises(ValueError):
        quote_string("line\nbreak")


def test_rows_from_result() -> None:
    body = {"results": [{"statement_id": 0, "series": [{
        "name": "drainage", "columns": ["time", "device", "waterLevel", "flow"],
        "values": [["2026-06-01T00:00:00Z", "dr-001", 1.25, None]]}]}]}
    assert rows_from_result(body) == [
        {"time": "2026-06-01T00:00:00Z", "device": "dr-001", "waterLevel": 1.25}]
    assert rows_from_result({"results": [{"statement_id": 0}]}) == []
    with pytest.raises(QueryError, match="database not found"):
        rows_from_result({"results": [{"error": "database not found: x"}]})
