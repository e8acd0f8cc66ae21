"""Validation throughput: `parse_telemetry` beside a JSON-decode-only baseline."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import orjson

from ioc.bench.trials import PROBLEMS
from ioc.core.contract import TelemetryRejected, parse_telemetry

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


def run_contract_bench(n: int = 100_000) -> dict[str, Any]:
    """Messages/s through the full device contract and through `orjson.loads` alone."""
    now = datetime.now(UTC)
    messages = _messages(n, now)
    start = time.perf_counter()
    for _topic, payload in messages:
        orjson.loads(payload)
    baseline = n / (time.perf_counter() - start)
    accepted = 0
    start = time.perf_counter()
    for topic, payload in messages:
        try:
            parse_telemetry(topic, payload, now)
            accepted += 1
        except TelemetryRejected:
            pass  # counted below: every message of the feed is valid
    validated = n / (time.perf_counter() - start)
    problems = [] if accepted == n else [f"{n - accepted} of {n} valid messages not accepted"]
    return {"messages": n, "accepted": accepted,
            "parse_telemetry_msgs_per_s": round(validated),
            "baseline_json_decode_msgs_per_s": round(baseline),
            "ratio_to_baseline": round(validated / baseline, 3), PROBLEMS: problems}
