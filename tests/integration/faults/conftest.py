"""Fixtures of the fault tests: the processors' flood feed, worker processes and buckets,
and the bridge tests' run, bridge processes and collector."""

from tests.integration.ingest.conftest import collector, run, start_bridge
from tests.integration.processors.proc_helpers import (
    alert_log,
    flood,
    influx_bucket,
    prefix,
    worker_process,
)

__all__ = ["alert_log", "collector", "flood", "influx_bucket", "prefix", "run", "start_bridge",
           "worker_process"]
