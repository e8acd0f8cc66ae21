"""`ioc bridge --processes 2` over a registry of 5,000 devices: the second member subscribes
to its ~2,500 exact topics in several SUBSCRIBE packets (one packet went over the broker's
max_packet_size, and the broker disconnected the member on every attempt)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from ioc.bench.loadgen import BridgeProcess, traffic_devices
from ioc.core.registry import dump_registry
from ioc.core.settings import Settings

pytestmark = pytest.mark.timeout(300)


def test_members_with_thousands_of_exact_topics_subscribe(mqtt_service: Settings,
                                                          kafka_service: Settings,
                                                          tmp_path: Path) -> None:
    run = uuid.uuid4().hex[:8]
    registry = tmp_path / "devices.yaml"
    dump_registry(traffic_devices(f"mt{run}-", 5000), registry)
    bridge = BridgeProcess(["--client-id", f"mt-{run}", "--share-group", "", "--registry",
                            str(registry), "--topic-prefix", f"mt-{run}-", "--no-status"],
                           tmp_path / "bridge.log", members=2)
    try:
        bridge.wait_ready(120)

        def counts() -> list[int]:  # the members' log lines may land a moment after /ready
            log = (tmp_path / "bridge.log").read_text(errors="replace")
            assert "Packet too large" not in log
            return [int(n) for n in re.findall(r"mqtt: subscribed to (\d+) topics", log)]

        # member 0 takes the wildcard and skips the others' devices; member 1 its own topics
        bridge.wait_until(lambda: len(counts()) == 1, 30, "member 1's subscription logged")
        assert counts()[0] > 2000
    finally:
        bridge.stop_and_forget(mqtt_service, 60)
