"""A short `ioc bench soak`: the real pipeline at a steady rate, every reading counted in
Kafka and InfluxDB, the RSS of each process sampled and printed."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from ioc.core.settings import Settings
from ioc.testing.processes import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]


def test_soak_smoke_loses_nothing_and_reports_rss(
        mqtt_service: Settings, kafka_service: Settings, influx_service: Settings) -> None:
    done = subprocess.run([sys.executable, "-m", "ioc", "bench", "soak", "--minutes", "0.5",
                           "--rate", "200", "--sample-s", "2", "--no-broker-warm-up",
                           "--per-gateway", "50"],
                          cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=360, check=False)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr[-3000:]
    assert "from 200 devices (wire publisher, 50 per gateway)" in out, out
    # 5 s of warm-up at 200/s before the measured half minute, counted all the same
    assert "published 7000 (6000 after 5 s of warm-up), acknowledged by Mosquitto 7000" in out, \
        out
    assert "Kafka: 7000 distinct readings" in out and "lost 0" in out, out
    assert "InfluxDB: 7000 points, lost 0, stored more than once 0" in out, out
    assert "LOST: 0" in out, out
    # every device whose first crossing was published got its alert, and it was timed
    latency = re.search(r"flood.level alert \(first crossing of each device, after the "
                        r"warm-up\): count (\d+), missing 0, p50_ms [\d.]+, p99_ms [\d.]+", out)
    assert latency is not None and int(latency.group(1)) > 0, out
    # the pipeline keeps up with 200/s: its commits over the window run at that rate, give
    # or take a commit interval at either end of the 30 s
    kept = re.search(r"kept up: judged ([\d.]+)/s, stored ([\d.]+)/s", out)
    assert kept is not None, out
    assert all(150 <= float(rate) <= 250 for rate in kept.groups()), out
    for process in ("publisher", "bridge", "worker"):
        assert any(line.startswith(process) for line in out.splitlines()), out
