"""The flash-flood feed through a real `ioc worker` process and real Kafka."""

from __future__ import annotations

import json
from collections.abc import Callable

from click.testing import CliRunner

from ioc.core.settings import Settings
from ioc.processors.cli import alerts as alerts_cli
from tests.integration.processors.proc_helpers import (
    AlertLog,
    Flood,
    WorkerProcess,
    caught_up,
    produce,
)

WARD_RULES = ("flood.level", "flood.localized")  # flood.rising may fire anywhere it rains


def test_flash_flood_raises_localized_only_in_flooded_wards(
        kafka_service: Settings, flood: Flood, worker_process: Callable[..., WorkerProcess],
        alert_log: Callable[[str], AlertLog], eventually: Callable[..., None]) -> None:
    worker = worker_process()
    worker.start()
    produce(kafka_service, worker.topics.telemetry, flood.readings)
    log = alert_log(worker.topics.alerts)
    topics = [worker.topics.telemetry, worker.topics.owned]
    eventually(lambda: not worker.alive() or caught_up(kafka_service, worker.group, topics),
               timeout=90, interval=0.5, what="the worker to consume the whole feed")
    assert worker.alive(), worker.log()

    def localized() -> set[str]:
        return {a.subject for a in log.poll() if a.rule == "flood.localized"}

    eventually(lambda: localized() >= flood.flooded, timeout=20,
               what=f"flood.localized for {sorted(flood.flooded)}")
    assert localized() == flood.flooded
    assert {a.ward for a in log.poll() if a.rule in WARD_RULES} == flood.flooded
    # per-device rules do not depend on how partitions interleave: same episodes as offline
    level_ids = {a.id for a in flood.reference if a.rule == "flood.level"}
    assert {a.id for a in log.poll() if a.rule == "flood.level"} == level_ids

    # `ioc alerts --json --all` prints the same alerts, folded to their latest versions
    result = CliRunner().invoke(alerts_cli, ["--json", "--all", "--topic", worker.topics.alerts])
    assert result.exit_code == 0, result.output
    shown = {d["id"]: d for d in map(json.loads, result.output.splitlines())}
    latest = log.latest()
    assert shown.keys() == latest.keys()
    assert all(shown[i]["version"] == a.version for i, a in latest.items())
    assert {d["subject"] for d in shown.values() if d["rule"] == "flood.localized"} \
        == flood.flooded
