"""After `ioc services up` the state dir is private: no group/other bits on its folders, its
secrets or its logs, including what an older version left world-readable."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ioc.core.admin_settings import admin_credentials_file
from ioc.core.settings import Settings, credentials_file, state_dir
from ioc.testing.processes import REPO_ROOT

# files holding secrets or logs; data files are covered by their 0700 folders
SECRETS = ("mosquitto/dynamic-security.json", "mosquitto/mosquitto.conf",
           "kafka/server.properties", "kafka/logins.fingerprint", "influxdb/influxd.bolt",
           "influxdb/influxd.sqlite")


def _loose(path: Path) -> bool:
    return bool(stat.S_IMODE(path.lstat().st_mode) & 0o077)


def _secret_or_log(state: Path, path: Path) -> bool:
    relative = path.relative_to(state)
    return (relative.parts[0] in ("logs", "run") or len(relative.parts) == 1
            or relative.as_posix() in SECRETS)


@pytest.fixture
def planted(mqtt_service: Settings, kafka_service: Settings,
            influx_service: Settings) -> Iterator[Path]:
    """A world-readable folder and log under .ioc/logs, as an older version left them."""
    folder = state_dir() / "logs" / f"test-old-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    (folder / "old.log").write_text("token=…\n")
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_services_up_leaves_no_group_or_other_access_in_the_state_dir(planted: Path) -> None:
    state = state_dir()
    dynsec = state / "mosquitto" / "dynamic-security.json"  # the devices' password hashes
    for path, mode in ((state, 0o755), (planted, 0o755), (planted / "old.log", 0o644),
                       (dynsec, 0o644), (credentials_file(), 0o644),
                       (admin_credentials_file(), 0o644)):
        path.chmod(mode)  # what issue 9 found on existing machines

    done = subprocess.run([sys.executable, "-m", "ioc", "services", "up"], cwd=REPO_ROOT,
                          env=os.environ.copy(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr

    folders, files = [state], []
    for folder, dirs, names in os.walk(state):
        folders += [Path(folder) / d for d in dirs]
        files += [Path(folder) / n for n in names]
    assert [d for d in folders if _loose(d)] == []
    checked = [f for f in files if _secret_or_log(state, f)]
    assert {credentials_file(), admin_credentials_file(), dynsec, planted / "old.log",
            state / "logs" / "kafka.log", state / "mqtt-secrets.json"} <= set(checked)
    assert [f for f in checked if _loose(f)] == []
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
