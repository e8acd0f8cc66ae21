"""Native local services (Mosquitto, Kafka KRaft, InfluxDB 2.7) under the state dir."""

from __future__ import annotations

from ioc.core.settings import read_env_file
from ioc.devstack.credentials import ensure_credentials, merge_credentials
from ioc.devstack.manager import (
    SERVICES,
    UpResult,
    parse_only,
    services_down,
    services_status,
    services_up,
)
from ioc.devstack.process import ServiceStatus

__all__ = [
    "SERVICES",
    "ServiceStatus",
    "UpResult",
    "ensure_credentials",
    "merge_credentials",
    "parse_only",
    "read_env_file",
    "services_down",
    "services_status",
    "services_up",
]
