"""Rendering Grafana's InfluxQL macros and variables, and collecting every query."""

from __future__ import annotations

from typing import Any

import pytest

from ioc.dashboards.influxql import InfluxQLError
from ioc.dashboards.query_check import UnresolvedVariable, check_dashboards, iter_queries, render


def test_render_replaces_macros_and_every_variable_syntax() -> None:
    q = ('SELECT count("x") / ($__interval_ms / 1000) FROM "m" WHERE $timeFilter AND '
         '"ward" =~ /^$ward$/ AND "road" =~ /^${road}$/ AND "d" =~ /^[[device]]$/ '
         "GROUP BY time($__interval)")
    out = render(q, {"ward": "tan-phu", "road": ".*", "device": "(a|b)"}, interval="5m")
    assert out == ('SELECT count("x") / (300000 / 1000) FROM "m" WHERE time >= now() - 6h '
                   'AND "ward" =~ /^tan-phu$/ AND "road" =~ /^.*$/ AND "d" =~ /^(a|b)$/ '
                   "GROUP BY time(5m)")


def test_render_refuses_an_unknown_variable() -> None:
    with pytest.raises(UnresolvedVariable, match=r"\$ward"):
        render('SELECT 1 FROM m WHERE "ward" =~ /^$ward$/', {})


def test_render_refuses_a_malformed_interval() -> None:
    with pytest.raises(ValueError):
        render("SELECT 1 FROM m", {}, interval="1 minute")


BOARD: dict[str, Any] = {
    "title": "B",
    "templating": {"list": [{"name": "ward", "type": "query", "query": "SHOW TAG VALUES"}]},
    "panels": [{"type": "row", "title": "r", "panels": [
        {"title": "nested", "targets": [{"refId": "A", "query": "SELECT 2 WHERE $timeFilter"}]}]},
        {"title": "p", "targets": [{"refId": "A", "query": 'SELECT "x" FROM m WHERE '
                                                            '"ward" =~ /^$ward$/'}]}],
}


def test_iter_queries_finds_variables_and_nested_panels() -> None:
    found = [(q.kind, q.source) for q in iter_queries(BOARD)]
    assert found == [("variable", "variable ward"), ("panel", "nested"), ("panel", "p")]


def test_check_dashboards_records_errors_and_defaults_variables_to_match_all() -> None:
    seen: list[str] = []

    def run(statement: str) -> list[dict[str, Any]]:
        seen.append(statement)
        if "SELECT 2" in statement:
            raise InfluxQLError("parse error")
        return [{"values": [[0, 1], [1, 2]]}]

    results = check_dashboards([BOARD], run)
    assert [r.error for r in results] == ["", "parse error", ""]
    assert results[2].rows == 2
    assert seen[2] == 'SELECT "x" FROM m WHERE "ward" =~ /^.*$/'
