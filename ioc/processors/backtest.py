"""Backtest: run the live validation and detection code over a recorded feed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import orjson

from ioc.core.contract import TelemetryRejected, parse_telemetry, split_topic
from ioc.core.registry import Registry
from ioc.core.schemas import Alert
from ioc.processors.detector import Detector
from ioc.processors.feed import FeedLine, read_feed_lines
from ioc.processors.rules.base import RuleSettings

__all__ = ["BacktestResult", "run_backtest"]

_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


@dataclass
class BacktestResult:
    """What a backtest saw: readings accepted, rejections by reason, alert changes."""

    readings: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    alerts: list[Alert] = field(default_factory=list)


class _Clock:
    """Maps a feed's relative `at` onto the absolute time of its first accepted reading."""

    def __init__(self) -> None:
        self.anchor: datetime | None = None

    def received(self, line: FeedLine) -> datetime:
        return _FAR_FUTURE if self.anchor is None else self.anchor + timedelta(seconds=line.at)


def run_backtest(lines: Iterable[bytes | str], registry: Registry,
                 settings: RuleSettings | None = None, tick_s: float = 30.0,
                 on_alert: Callable[[Alert], None] | None = None) -> BacktestResult:
    """Validate and detect over feed lines, using each reading's dateObserved as the clock."""
    det = Detector(registry, settings)
    result, clock = BacktestResult(), _Clock()
    last_tick: float | None = None
    emit = on_alert or result.alerts.append
    for line in read_feed_lines(lines):
        if line.error is not None:
            result.rejected[line.error] += 1
            continue
        alerts = _one(det, line, clock, registry, result)
        if det.clock is not None and (last_tick is None or det.clock - last_tick >= tick_s):
            last_tick = det.clock
            alerts += det.tick(det.clock)
        for alert in alerts:
            emit(alert)
    return result


def _one(det: Detector, line: FeedLine, clock: _Clock, registry: Registry,
         result: BacktestResult) -> list[Alert]:
    if line.topic.endswith("/status"):
        return _status(det, line, clock)
    try:
        reading = parse_telemetry(line.topic, line.payload, clock.received(line), registry)
    except TelemetryRejected as exc:
        result.rejected[exc.reason.value] += 1
        return []
    if clock.anchor is None:
        clock.anchor = reading.observed_at - timedelta(seconds=line.at)
    result.readings += 1
    return det.process(reading)


def _status(det: Detector, line: FeedLine, clock: _Clock) -> list[Alert]:
    try:
        _, device_id, _ = split_topic(line.topic)
    except TelemetryRejected:
        return []
    if clock.anchor is None:
        return []
    text = line.payload.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        try:
            text = str(orjson.loads(text).get("status", ""))
        except (orjson.JSONDecodeError, AttributeError):
            return []
    status = text.strip('"').lower()
    return det.status(device_id, status, (clock.anchor + timedelta(seconds=line.at)).timestamp())
