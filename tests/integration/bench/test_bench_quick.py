"""`ioc bench --quick` against the real services: every part runs, counts what it moved and
reports achieved rates; the command exits 0 only when nothing was lost or duplicated."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ioc.core.settings import Settings
from ioc.testing.processes import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

_PARTS = ("contract", "detector", "worker", "bridge", "storage", "pipeline", "acl")


def test_bench_quick_counts_every_part_and_reports_achieved_rates(
        mqtt_service: Settings, kafka_service: Settings, influx_service: Settings) -> None:
    done = subprocess.run([sys.executable, "-m", "ioc", "bench", "--quick", "--json",
                           "--only", ",".join(_PARTS)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=540, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    report = json.loads(done.stdout)
    machine = report.pop("machine")  # the figures' machine, calibrated before the parts
    assert machine["cores"] >= 1 and machine["calibration_ms"] > 0 and machine["cpu"]
    assert sorted(report) == sorted(_PARTS)
    for part, result in report.items():
        assert result["ok"] is True and result["problems"] == [], (part, result)
        assert result["runs"] == 1, part
    assert report["contract"]["accepted"] == report["contract"]["messages"]
    bridge = report["bridge"]
    assert bridge["bridge_missing"] == 0 and bridge["bridge_duplicates"] == 0
    assert bridge["bridge_drain_missing"] == 0 and bridge["bridge_drain_duplicates"] == 0
    assert bridge["bridge_drain_msgs_per_s"]["median"] > 0
    assert report["storage"]["stored_by_sink"] == report["storage"]["readings"]
    pipeline = report["pipeline"]
    assert pipeline["telemetry_missing"] == 0 and pipeline["alerts_missing"] == 0
    assert pipeline["achieved_publish_rate_per_s"]["median"] > 0
    assert report["worker"]["baseline_read"] == report["worker"]["readings"]
    acl = report["acl"]  # both gateways' publishes were all acknowledged (else a problem)
    for order in ("scan_order", "sorted"):
        figure = acl[f"broker_cpu_us_per_publish_{order}"]  # a spread, or one run's number
        assert (figure["median"] if isinstance(figure, dict) else figure) > 0, acl
