"""`ioc backtest` over a small synthetic flash-flood feed written by the test."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from ioc.core.registry import dump_registry
from ioc.core.topics import telemetry_topic
from ioc.processors.cli import backtest
from ioc.testing.factories import T0, drainage_device


def _line(at: float, dev: str, level: float) -> bytes:
    ms = int(T0.timestamp() * 1000 + at * 1000)
    payload = orjson.dumps({"dateObserved": ms, "waterLevel": level}).decode()
    return orjson.dumps({"at": at, "topic": telemetry_topic("drainage", dev), "payload": payload})


def _feed(tmp_path: Path) -> tuple[Path, Path]:
    devices = [drainage_device("p1"), drainage_device("p2"),
               drainage_device("d1", ward="tan-dong"), drainage_device("d2", ward="tan-dong"),
               drainage_device("x1", ward="tan-xuan"), drainage_device("x2", ward="tan-xuan")]
    reg = tmp_path / "devices.yaml"
    dump_registry(devices, reg)
    lines = []
    for i in range(30):
        t = i * 60.0
        flood = 0.2 + 0.06 * i if i < 15 else 1.1 - 0.07 * (i - 15)
        for dev in ("p1", "p2", "d1", "d2"):
            lines.append(_line(t + 1, dev, round(max(flood, 0.1), 3)))
        lines.append(_line(t + 2, "x1", 0.8 if i == 10 else 0.2))  # one spike in tan-xuan
        lines.append(_line(t + 3, "x2", 0.2))
    lines += [b"not json", orjson.dumps({"at": 5, "topic": "ioc/v1/drainage/zz/telemetry",
                                         "payload": "{}"}),
              orjson.dumps({"at": 6, "topic": telemetry_topic("drainage", "p1"),
                            "payload": '{"dateObserved": 1, "waterLevel": NaN}'})]
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(b"\n".join(lines) + b"\n")
    return feed, reg


def test_backtest_flash_flood_feed(tmp_path: Path) -> None:
    feed, reg = _feed(tmp_path)
    result = CliRunner(mix_stderr=False).invoke(backtest, [str(feed), "--registry", str(reg)])
    assert result.exit_code == 0, result.output
    alerts = [orjson.loads(x) for x in result.stdout.splitlines()]
    for key in ("id", "rule", "status", "severity", "ward", "alertSource", "dateIssued"):
        assert all(key in a for a in alerts)
    localized = [a for a in alerts if a["rule"] == "flood.localized"]
    assert {a["ward"] for a in localized if a["status"] == "open"} == {"tan-phu", "tan-dong"}
    assert not [a for a in alerts if a["rule"] == "flood.localized" and a["ward"] == "tan-xuan"]
    assert "bad_feed_line=1" in result.stderr and "unknown_device=1" in result.stderr
    assert "non_finite=1" in result.stderr
