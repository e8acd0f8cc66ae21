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
    assert_flood_detected,
    await_consumed,
    produce,
)


def test_flash_flood_raises_localized_only_in_flooded_wards(
        kafka_service: Settings, flood: Flood, worker_process: Callable[..., WorkerProcess],
        alert_log: Callable[[str], AlertLog], eventually: Callable[..., None]) -> None:
    worker = worker_process()
    worker.start()
    produce(kafka_service, worker.topics.telemetry, flood.readings)
    log = alert_log(worker.topics.alerts)
    await_consumed(kafka_service, worker, eventually)
    assert_flood_detected(log, flood, eventually)

    # `ioc alerts --json --all` prints the same alerts, folded to their latest versions
    result = CliRunner().invoke(alerts_cli, ["--json", "--all", "--topic", worker.topics.alerts])
    assert result.exit_code == 0, result.output
    shown = {d["id"]: d for d in map(json.loads, result.output.splitlines())}
    latest = log.latest()
    assert shown.keys() == latest.keys()
    assert all(shown[i]["version"] == a.version for i, a in latest.items())
    assert {d["subject"] for d in shown.values() if d["rule"] == "flood.localized"} \
        == flood.flooded
