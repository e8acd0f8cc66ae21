"""`ioc devices secret issue|rotate|revoke` on the running broker: a rotated secret works and
the old one is refused at once, a revoked one is refused, open sessions are closed, and the
broker process is the same one throughout (no restart, no reload)."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ioc.bench.loadgen import traffic_devices
from ioc.core.mqtt_admin import admin_from_settings
from ioc.core.registry import dump_registry
from ioc.core.settings import Settings, state_dir
from ioc.core.topics import telemetry_topic
from ioc.devstack.process import pid_alive, read_pid
from ioc.testing.mqtt_logins import run_role_member
from ioc.testing.processes import REPO_ROOT
from tests.integration.mqtt_client import MqttTestClient, mqtt_connect

__all__ = ["mqtt_connect"]

Connect = Callable[..., MqttTestClient]


@dataclass(frozen=True)
class Lab:
    """A device of a registry of its own, a secrets file of its own, the CLI to drive."""

    device: str
    store: Path
    env: dict[str, str]

    def ioc(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `ioc devices secret ARGS` as a separate process."""
        return subprocess.run([sys.executable, "-m", "ioc", "devices", "secret", *args],
                              env=self.env, cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=60, check=False)

    def secret(self, action: str) -> str:
        """Issue or rotate with --show; the printed secret."""
        done = self.ioc(action, self.device, "--show")
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()


@pytest.fixture
def lab(mqtt_service: Settings, tmp_path: Path) -> Iterator[Lab]:
    import os

    device = traffic_devices(f"sec{uuid.uuid4().hex[:8]}-", 1)[0]
    registry = tmp_path / "devices.yaml"
    dump_registry([device], registry)
    store = tmp_path / "secrets" / "mqtt-secrets.json"
    env = {**os.environ, "IOC_REGISTRY": str(registry), "IOC_MQTT_SECRETS": str(store)}
    yield Lab(device.id, store, env)
    gateway_acls = [{"command": "removeRoleACL", "rolename": "ioc-gw-traffic",
                     "acltype": "publishClientSend", "topic": f"ioc/v1/traffic/{device.id}/{k}"}
                    for k in ("telemetry", "status")]
    with admin_from_settings(mqtt_service) as conn:
        conn.apply([{"command": "deleteClient", "username": device.id},
                    {"command": "deleteRole", "rolename": f"ioc-device-{device.id}"},
                    *gateway_acls],
                   tolerate={"Client not found", "Role not found", "ACL not found"})


def _broker_pid() -> int:
    pid = read_pid(state_dir() / "run" / "mosquitto.pid")
    assert pid is not None and pid_alive(pid, "mosquitto"), "Mosquitto not started by ioc"
    return pid


def test_rotate_and_revoke_take_effect_at_once_without_a_broker_restart(
        lab: Lab, mqtt_connect: Connect, eventually: Callable[..., None]) -> None:
    pid = _broker_pid()
    dev, topic = lab.device, telemetry_topic("traffic", lab.device)
    first = lab.secret("issue")
    assert stat.S_IMODE(lab.store.stat().st_mode) == 0o600
    assert json.loads(lab.store.read_text())["users"][dev]["secret"] == first
    live = mqtt_connect(dev, first, dev)
    assert live.accepted and live.publish(topic, b"{}") == "Success"

    second = lab.secret("rotate")
    assert second != first
    eventually(lambda: bool(live.disconnects), timeout=10, what="the old session closed")
    assert not mqtt_connect(dev, first, dev).accepted
    again = mqtt_connect(dev, second, dev)
    assert again.accepted and again.publish(topic, b"{}") == "Success"

    revoked = lab.ioc("revoke", dev)
    assert revoked.returncode == 0, revoked.stderr
    eventually(lambda: bool(again.disconnects), timeout=10, what="the revoked session closed")
    assert not mqtt_connect(dev, second, dev).accepted
    assert json.loads(lab.store.read_text())["users"][dev]["secret"] is None

    third = lab.secret("issue")  # a revoked device can be issued a new secret
    assert mqtt_connect(dev, third, dev).accepted
    assert _broker_pid() == pid  # one broker process throughout


def test_issue_also_lets_the_domain_gateway_publish_for_the_device(
        lab: Lab, mqtt_service: Settings, mqtt_connect: Connect,
        eventually: Callable[..., None]) -> None:
    # a throwaway user holding the traffic gateway's role: the real gw-traffic (and its bound
    # client id) stays with the simulator of a running `make up`
    name = f"gwtest-{uuid.uuid4().hex[:8]}"
    with run_role_member(mqtt_service, name, "ioc-gw-traffic") as login:
        gateway = mqtt_connect(name, login.password, name)
        assert gateway.accepted
        topic = telemetry_topic("traffic", lab.device)
        assert gateway.publish(topic, b"{}") == "Not authorized"  # not registered yet
        lab.secret("issue")
        # the plugin checks ACLs per message, and may also close the connections of a role it
        # changed (the gateway then reconnects): either way the new device's topics open up
        clients = [gateway]

        def allowed() -> bool:
            if clients[-1].disconnects:
                clients.append(mqtt_connect(name, login.password, name))
            return clients[-1].publish(topic, b"{}", timeout=2.0) == "Success"

        eventually(allowed, timeout=15, what="the gateway allowed to publish for the device")


def test_unknown_ids_and_wrong_order_are_clear_errors(lab: Lab) -> None:
    unknown = lab.ioc("rotate", "no-such-device")
    assert unknown.returncode != 0
    assert "unknown device 'no-such-device'" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    never = lab.ioc("rotate", lab.device)
    assert never.returncode != 0 and "no active secret" in never.stderr
    lab.secret("issue")
    twice = lab.ioc("issue", lab.device)
    assert twice.returncode != 0 and "already has an active secret" in twice.stderr
    assert lab.ioc("--help").returncode == 0
