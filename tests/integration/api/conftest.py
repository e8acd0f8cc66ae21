"""Fixtures of the API integration tests (most are defined in api_helpers and api_process)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ioc.core.registry import dump_registry
from ioc.core.settings import Settings
from ioc.testing.processes import WorkerProcess
from tests.integration.api.api_helpers import (
    WorkerRun,
    drain_device,
    influx_bucket,
    serve_api,
    served_api,
)
from tests.integration.api.api_process import api_process

__all__ = ["api_process", "influx_bucket", "serve_api", "served_api", "worker"]


@pytest.fixture
def worker(kafka_service: Settings, tmp_path: Path) -> Iterator[WorkerRun]:
    """`ioc worker --topic-prefix P --no-influx` over a one-device registry."""
    suffix = uuid.uuid4().hex[:8]
    prefix, device_id = f"test-api-{suffix}.", f"dr-loop-{suffix}"
    registry = tmp_path / "devices.yaml"
    dump_registry([drain_device(device_id)], registry)
    process = WorkerProcess(prefix, registry, tmp_path / "worker.log")
    process.start()
    try:
        yield WorkerRun(prefix, device_id, process)
    finally:
        process.stop(20)
