"""Validation throughput: `parse_telemetry` beside a JSON-decode-only baseline, and the
bridge's record path beside the model's."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson

from ioc.bench.trials import PROBLEMS
from ioc.core.contract import TelemetryRejected, parse_telemetry, telemetry_json
from ioc.core.schemas import reading_to_json

__all__ = ["run_contract_bench"]

_PAYLOADS: dict[str, dict[str, object]] = {
    "traffic": {"intensity": 17, "averageVehicleSpeed": 41.5, "occupancy": 0.22},
    "streetlight": {"powerState": "on", "powerConsumption": 96.0,
                    "lifetimePowerConsumption": 812.4, "voltage": 229.1},
    "drainage": {"waterLevel": 0.31, "precipitation": 1.2, "flow": 0.05},
}


def _messages(n: int, now: datetime) -> list[tuple[str, bytes]]:
    out = []
    stamp = now.isoformat()
    domains = list(_PAYLOADS)
    for i in range(n):
        domain = domains[i % 3]
        body = {"dateObserved": stamp, "seq": i, "batteryLevel": 0.9, **_PAYLOADS[domain]}
        out.append((f"ioc/v1/{domain}/bench-{i % 500}/telemetry", orjson.dumps(body)))
    return out


def _rate(messages: list[tuple[str, bytes]], now: datetime,
          handle: Callable[[str, bytes, datetime], object]) -> tuple[float, int]:
    """Messages/s through `handle`, and how many it accepted."""
    accepted = 0
    start = time.perf_counter()
    for topic, payload in messages:
        try:
            handle(topic, payload, now)
            accepted += 1
        except TelemetryRejected:
            pass  # counted by the caller: every message of the feed is valid
    return len(messages) / (time.perf_counter() - start), accepted


def _model_record(topic: str, payload: bytes, now: datetime) -> bytes:
    return reading_to_json(parse_telemetry(topic, payload, now))


def run_contract_bench(n: int = 100_000) -> dict[str, Any]:
    """Messages/s through the device contract, beside `orjson.loads` alone; and the bridge's
    record path (`telemetry_json`) beside the pydantic model's (`reading_to_json(
    parse_telemetry(...))`), which writes the same bytes."""
    now = datetime.now(UTC)
    messages = _messages(n, now)
    start = time.perf_counter()
    for _topic, payload in messages:
        orjson.loads(payload)
    baseline = n / (time.perf_counter() - start)
    validated, accepted = _rate(messages, now, parse_telemetry)
    model, model_ok = _rate(messages, now, _model_record)
    record, record_ok = _rate(messages, now, telemetry_json)
    problems = [f"{name}: {n - ok} of {n} valid messages not accepted"
                for name, ok in (("parse_telemetry", accepted), ("model record", model_ok),
                                 ("telemetry_json", record_ok)) if ok != n]
    return {"messages": n, "accepted": accepted,
            "parse_telemetry_msgs_per_s": round(validated),
            "baseline_json_decode_msgs_per_s": round(baseline),
            "ratio_to_baseline": round(validated / baseline, 3),
            "record_telemetry_json_msgs_per_s": round(record),
            "baseline_record_via_model_msgs_per_s": round(model),
            "record_ratio_to_model": round(record / model, 3), PROBLEMS: problems}
