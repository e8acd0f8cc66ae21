"""`ioc bench --only peer --quick` against the real services: with a Telegraf binary, the
same backlog is drained by the bridge and by Telegraf, then the same feed is published live
by three gateways while each runs, and both are counted on both sides; without
one, the part says how to get it (and the command still exits 0)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ioc.bench.peer import find_telegraf
from ioc.core.settings import Settings
from ioc.testing.processes import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]


def test_bench_peer_quick_counts_both_sides_or_explains_the_skip(
        mqtt_service: Settings, kafka_service: Settings, influx_service: Settings) -> None:
    done = subprocess.run([sys.executable, "-m", "ioc", "bench", "--quick", "--json",
                           "--only", "peer"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=360, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    peer = json.loads(done.stdout)["peer"]
    if find_telegraf() is None:
        assert "make telegraf" in peer["skipped"]
        return
    assert peer["ok"] is True and peer["problems"] == [], peer
    for side in ("bridge", "telegraf", "live_bridge", "live_telegraf"):
        assert peer[f"kafka_{side}_missing"]["max"] == 0, side
        assert peer[f"kafka_{side}_duplicates"]["max"] == 0, side
        assert peer[f"kafka_{side}_msgs_per_s"]["median"] > 0, side
    for side in ("live_bridge", "live_telegraf"):  # three gateways published as it ran
        assert peer[f"kafka_{side}_publish_msgs_per_s"]["median"] > 0, side
        assert peer[f"kafka_{side}_behind_s"]["min"] >= 0, side
    assert peer["ratio_kafka_rate"]["median"] > 0
    assert peer["ratio_kafka_live_rate"]["median"] > 0
    for side in ("bridge_worker", "telegraf"):  # the storage path, counted in InfluxDB
        assert peer[f"influx_{side}_stored"]["min"] == peer["messages"], side
