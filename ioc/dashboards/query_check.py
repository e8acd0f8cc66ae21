"""Render every panel and variable query for a concrete time range, and run them all."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ioc.core.errors import IocError

__all__ = [
    "CheckResult",
    "DashboardQuery",
    "UnresolvedVariable",
    "check_dashboards",
    "iter_queries",
    "render",
]

QueryRunner = Callable[[str], list[dict[str, Any]]]
_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")


class UnresolvedVariable(IocError):
    """A query uses a `$variable` the renderer was given no value for."""


@dataclass(frozen=True, slots=True)
class DashboardQuery:
    """One InfluxQL statement of a dashboard: a panel target or a template variable."""

    dashboard: str
    source: str  # panel title, or "variable <name>"
    kind: Literal["panel", "variable"]
    query: str
    ref_id: str = ""


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What running one rendered query returned (series) or why it failed (error)."""

    query: DashboardQuery
    rendered: str
    series: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""

    @property
    def rows(self) -> int:
        """Rows over all returned series."""
        return sum(len(s.get("values") or []) for s in self.series)


def iter_queries(dashboard: Mapping[str, Any]) -> Iterator[DashboardQuery]:
    """Every target of every panel (rows' children included) and every variable query."""
    title = str(dashboard.get("title", ""))
    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("type") == "query":
            yield DashboardQuery(title, f"variable {var['name']}", "variable", var["query"])
    for panel in _panels(dashboard.get("panels", [])):
        for target in panel.get("targets", []):
            yield DashboardQuery(title, panel.get("title", ""), "panel",
                                 target.get("query", ""), target.get("refId", ""))


def _panels(panels: Sequence[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def render(query: str, variables: Mapping[str, str], *,
           time_filter: str = "time >= now() - 6h", interval: str = "1m") -> str:
    """Substitute Grafana's InfluxQL macros and template variables as Grafana would."""
    seconds = _seconds(interval)
    text = (query.replace("$timeFilter", time_filter)
            .replace("$__interval_ms", str(seconds * 1000))
            .replace("$__interval", interval))

    def value(match: re.Match[str]) -> str:
        name = next(g for g in match.groups() if g)
        if name not in variables:
            raise UnresolvedVariable(f"no value for ${name} in: {query}")
        return variables[name]

    return _VARIABLE.sub(value, text)


def _seconds(interval: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    match = re.fullmatch(r"(\d+)([smhd])", interval)
    if not match:
        raise ValueError(f"interval must look like 30s, 1m, 1h: {interval!r}")
    return int(match.group(1)) * units[match.group(2)]


def check_dashboards(dashboards: Sequence[Mapping[str, Any]], run: QueryRunner,
                     variables: Mapping[str, str] | None = None,
                     **render_options: str) -> list[CheckResult]:
    """Render and run every query; a variable without a value matches everything (`.*`)."""
    results = []
    for dashboard in dashboards:
        names = [v["name"] for v in dashboard.get("templating", {}).get("list", [])]
        values = {name: ".*" for name in names} | dict(variables or {})
        for q in iter_queries(dashboard):
            rendered = render(q.query, values, **render_options)
            try:
                results.append(CheckResult(q, rendered, run(rendered)))
            except IocError as exc:
                results.append(CheckResult(q, rendered, error=str(exc)))
    return results
