"""What the deploy tests share: the required variables and the resolved compose model."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

ROOT = Path(__file__).resolve().parents[3]

# Every variable docker-compose.yml requires (${VAR:?...}), with a distinct value each, so a
# test can tell which service was handed which secret.
REQUIRED = ("IOC_UID", "IOC_MQTT_PASSWORD", "IOC_KAFKA_PASSWORD", "IOC_API_SECRET",
            "IOC_BRIDGE_ID_TAG", "IOC_KAFKA_ADMIN_PASSWORD", "IOC_INFLUX_ADMIN_PASSWORD",
            "IOC_INFLUX_TOKEN", "IOC_GRAFANA_ADMIN_PASSWORD")


def compose_env() -> dict[str, str]:
    """Values for every required variable (IOC_UID a number, the secrets random)."""
    values = {key: f"{key.lower()}-{secrets.token_hex(20)}" for key in REQUIRED}
    values["IOC_UID"] = "4242"
    return values


def parsed(done: CompletedProcess[str]) -> dict[str, Any]:
    """The resolved model, or fail with compose's own message."""
    assert done.returncode == 0, done.stderr
    model: dict[str, Any] = json.loads(done.stdout)
    return model


def dockerfile_entrypoint() -> list[str]:
    """The image's ENTRYPOINT (exec form) from the Dockerfile."""
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    found = [line.split(None, 1)[1] for line in lines if line.startswith("ENTRYPOINT ")]
    assert len(found) == 1, "one ENTRYPOINT in exec form"
    entrypoint: list[str] = json.loads(found[0])
    return entrypoint
