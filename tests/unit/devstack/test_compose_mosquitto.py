"""docker-compose.yml runs Mosquitto as the state files' owner, persisting where it may write."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]


def _compose() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return compose


def test_mosquitto_user_is_required_not_a_guessed_default() -> None:
    user = _compose()["services"]["mosquitto"]["user"]
    assert re.fullmatch(r"\$\{IOC_UID:\?[^$}]+\}", user)  # compose refuses to start without it


def test_persistence_is_a_bind_mount_under_the_state_dir_not_a_named_volume() -> None:
    compose = _compose()
    mounts = {target: source for source, target, *_ in
              (item.split(":") for item in compose["services"]["mosquitto"]["volumes"])}
    conf = (ROOT / "deploy" / "compose" / "mosquitto.conf").read_text()
    location = re.search(r"^persistence_location (\S+?)/?$", conf, flags=re.M)
    assert location is not None
    source = mounts[location.group(1)]  # what the broker persists to is mounted...
    assert source.startswith("./.ioc/mosquitto/")  # ...from a folder `ioc services up` makes
    assert "mosquitto-data" not in (compose.get("volumes") or {})
