"""InfluxQL text for the dashboards, written against processors/influx_writer's schema."""

from __future__ import annotations

from collections.abc import Sequence

from ioc.core.schemas import SEVERITY_RANK

__all__ = [
    "ALERT_LOOKBACK",
    "NOW_WINDOW",
    "alert_changes",
    "alert_history",
    "current_alerts",
    "open_alerts",
    "open_alerts_by_severity",
    "per_group_of_devices",
    "show_tag_values",
    "var_match",
    "where",
]

# Current state = each alert's latest change; an alert older than this is not "current".
ALERT_LOOKBACK = "time > now() - 7d"
# "Now" panels look at the last few reporting intervals only.
NOW_WINDOW = "time > now() - 15m"


def var_match(tag: str, variable: str | None = None) -> str:
    """`"tag" =~ /^$var$/`: Grafana expands a multi-value or All selection to (a|b|…)."""
    return f'"{tag}" =~ /^${variable or tag}$/'


def where(*conditions: str, time: str = "$timeFilter") -> str:
    """A WHERE clause: the time condition first, then the rest joined with AND."""
    return "WHERE " + " AND ".join((time, *conditions))


def show_tag_values(key: str, measurement: str | None = None,
                    conditions: Sequence[str] = ()) -> str:
    """`SHOW TAG VALUES` for a template variable, optionally chained on other variables."""
    text = "SHOW TAG VALUES"
    if measurement:
        text += f' FROM "{measurement}"'
    text += f' WITH KEY = "{key}"'
    if conditions:
        text += " WHERE " + " AND ".join(conditions)
    return text


def per_group_of_devices(outer: str, inner: str, measurement: str, group: str,
                         conditions: Sequence[str], interval: bool = True,
                         time: str = "$timeFilter") -> str:
    """Aggregate per device first, then across the devices of each `group` tag value.

    Summing raw points would count a device twice when it reports twice in an interval.
    """
    by_time = "time($__interval), " if interval else ""
    fill = " fill(none)" if interval else ""
    sub = (f'SELECT {inner} FROM "{measurement}" {where(*conditions, time=time)} '
           f'GROUP BY {by_time}"device", "{group}"')
    return (f"SELECT {outer} FROM ({sub}) {where(time=time)} "
            f'GROUP BY {by_time}"{group}"{fill}')


def _latest_alerts(columns: str, conditions: Sequence[str]) -> str:
    return (f'SELECT last("severityRank") AS "rank", {columns} FROM "alerts" '
            f'{where(*conditions, time=ALERT_LOOKBACK)} GROUP BY "rule", "subject"')


def open_alerts(conditions: Sequence[str] = (), rank: str = "") -> str:
    """Alerts whose latest change is not `resolved`, optionally of one severity rank.

    The rank is compared as the inner query's field on purpose: an outer GROUP BY on the
    `severity` tag would be pushed into the subquery and split an escalated alert in two.
    """
    sub = _latest_alerts('"status"', conditions)
    rank_filter = f' AND "rank" {rank}' if rank else ""
    return f"SELECT count(\"rank\") FROM ({sub}) WHERE \"status\" != 'resolved'{rank_filter}"


def open_alerts_by_severity(conditions: Sequence[str] = ()) -> dict[str, str]:
    """One open-alert count query per severity band (informational folded into low)."""
    return {name: open_alerts(conditions, f"{op} {SEVERITY_RANK[sev]}")
            for name, sev, op in (("critical", "critical", "="), ("high", "high", "="),
                                  ("medium", "medium", "="), ("low", "low", "<="))}


def current_alerts(conditions: Sequence[str] = ()) -> str:
    """One row per unresolved alert: its latest severity, status, ward and description."""
    sub = _latest_alerts('"severity", "status", "ward", "description", "id"', conditions)
    return (f'SELECT "rank", "severity", "status", "ward", "description", "id" '
            f"FROM ({sub}) WHERE \"status\" != 'resolved'")


def alert_changes(conditions: Sequence[str] = ()) -> str:
    """Alert changes (opened, escalated, acknowledged, resolved) per interval and severity."""
    return (f'SELECT count("id") FROM "alerts" {where(*conditions)} '
            'GROUP BY time($__interval), "severity" fill(0)')


def alert_history(conditions: Sequence[str] = ()) -> str:
    """Every alert change in the time range, newest first."""
    return (f'SELECT "id", "severity", "status", "ward", "subject", "description", "version" '
            f'FROM "alerts" {where(*conditions)} GROUP BY "rule" ORDER BY time DESC LIMIT 500')
