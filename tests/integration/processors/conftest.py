"""Fixtures of the processors' integration tests (defined in proc_helpers)."""

from tests.integration.processors.proc_helpers import (
    alert_log,
    flood,
    influx_bucket,
    prefix,
    worker_process,
)

__all__ = ["alert_log", "flood", "influx_bucket", "prefix", "worker_process"]
