"""docker-compose.yml runs Kafka with SASL only, its secrets from the environment."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]


def _kafka() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    service: dict[str, Any] = compose["services"]["kafka"]
    return service


def test_kafka_starts_through_the_sasl_script() -> None:
    kafka = _kafka()
    script = "/ioc/kafka-start.sh"
    assert kafka["entrypoint"] == ["/bin/sh", script]
    assert f"./deploy/compose/kafka-start.sh:{script}:ro" in kafka["volumes"]
    assert (ROOT / "deploy" / "compose" / "kafka-start.sh").is_file()
    # nothing configures a listener behind the script's back
    assert not any(key.startswith("KAFKA_") for key in kafka["environment"])


def test_kafka_secrets_are_required_from_the_environment() -> None:
    env = _kafka()["environment"]
    for key in ("IOC_KAFKA_PASSWORD", "IOC_KAFKA_ADMIN_PASSWORD"):
        assert env[key] == f"${{{key}:?set {key}}}"  # compose refuses to start without it


def test_script_listeners_are_all_sasl() -> None:
    text = (ROOT / "deploy" / "compose" / "kafka-start.sh").read_text()
    props = dict(re.findall(r"^([a-z][a-z0-9.\-]+)=(.*)$", text, flags=re.M))
    assert props["listener.security.protocol.map"] == "$protocols,CONTROLLER:SASL_PLAINTEXT"
    # every listener the script can add to the map is SASL (CLIENT always, INTERNAL if set)
    added = re.findall(r'protocols="(?:\$protocols,)?([^"]+)"', text)
    assert added == ["CLIENT:SASL_PLAINTEXT", "INTERNAL:SASL_PLAINTEXT"]
    for listener in ("client", "internal"):
        assert props[f"listener.name.{listener}.sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["listener.name.controller.sasl.enabled.mechanisms"] == "PLAIN"
    assert "PLAINTEXT://" not in text


def test_containers_reach_kafka_on_the_internal_listener() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    internal = compose["services"]["kafka"]["environment"]["IOC_KAFKA_INTERNAL"]
    assert internal == "kafka:19092"
    assert compose["x-ioc-env"]["IOC_KAFKA_BOOTSTRAP"] == internal
