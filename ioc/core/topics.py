"""Topic names: the MQTT device contract and the Kafka topics between the stages."""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "ALERTS",
    "ALERT_COMMANDS",
    "DEADLETTER",
    "DEVICE_ID_RE",
    "DEVICE_STATUS",
    "DOMAINS",
    "MQTT_STATUS_FILTER",
    "MQTT_TELEMETRY_FILTER",
    "TELEMETRY",
    "status_topic",
    "telemetry_topic",
]

DOMAINS: Final = ("traffic", "streetlight", "drainage")
DEVICE_ID_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")

MQTT_TELEMETRY_FILTER: Final = "ioc/v1/+/+/telemetry"
MQTT_STATUS_FILTER: Final = "ioc/v1/+/+/status"

TELEMETRY: Final = "ioc.telemetry"
DEADLETTER: Final = "ioc.deadletter"
ALERTS: Final = "ioc.alerts"
ALERT_COMMANDS: Final = "ioc.alert-commands"
DEVICE_STATUS: Final = "ioc.device-status"


def telemetry_topic(domain: str, device_id: str) -> str:
    """MQTT topic a device publishes its readings on."""
    return f"ioc/v1/{domain}/{device_id}/telemetry"


def status_topic(domain: str, device_id: str) -> str:
    """MQTT topic of a device's retained online/offline status (its Last Will)."""
    return f"ioc/v1/{domain}/{device_id}/status"
