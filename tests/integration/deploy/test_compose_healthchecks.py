"""The compose healthchecks probe what they claim: Mosquitto's against the local broker, and
the pipeline's on the ports their commands open."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import yaml

from ioc.core.settings import Settings
from ioc.testing.processes import free_port
from tests.integration.deploy.compose_model import ROOT


def _services() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return dict(compose["services"])


def _mosquitto_check(host: str, port: int) -> subprocess.CompletedProcess[str]:
    kind, command = _services()["mosquitto"]["healthcheck"]["test"]
    assert kind == "CMD-SHELL" and "-h 127.0.0.1 " in command
    here = command.replace("-h 127.0.0.1 ", f"-h {host} -p {port} ")
    return subprocess.run(["sh", "-c", here], capture_output=True, text=True, timeout=30,
                          check=False)


def test_mosquitto_check_passes_on_a_live_broker_and_fails_without_one(
        mqtt_service: Settings) -> None:
    s = mqtt_service
    assert _mosquitto_check(s.mqtt_host, s.mqtt_port).returncode == 0
    assert _mosquitto_check("127.0.0.1", free_port()).returncode != 0  # nothing listening


def _probed_port(service: dict[str, Any]) -> int:
    test = " ".join(service["healthcheck"]["test"])
    found = re.search(r"http://127\.0\.0\.1:(\d+)/", test)
    assert found, test
    return int(found.group(1))


def test_pipeline_checks_probe_the_ports_their_commands_open() -> None:
    services = _services()
    for name, option in (("bridge", "--metrics-port"), ("worker", "--web-port")):
        command = services[name]["command"]
        assert _probed_port(services[name]) == int(command[command.index(option) + 1]), name
    api = services["api"]
    assert _probed_port(api) == int(api["environment"]["IOC_API_PORT"])
    assert api["ports"] == [f"127.0.0.1:{_probed_port(api)}:{_probed_port(api)}"]
