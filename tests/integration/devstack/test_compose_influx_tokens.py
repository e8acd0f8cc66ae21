"""docker-compose's influx-tokens script, run against the local InfluxDB: Grafana's token."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from ioc.core.settings import Settings
from ioc.testing.influx import mapped_bucket

SCRIPT = Path(__file__).parents[3] / "deploy" / "compose" / "influx-tokens.sh"


@pytest.fixture
def bucket(influx_service: Settings) -> Iterator[str]:
    with mapped_bucket(influx_service, "test-compose") as name:
        yield name
        _revoke(influx_service, f"ioc-grafana-read {name}")


def _revoke(s: Settings, description: str) -> None:
    headers = {"Authorization": f"Token {s.influx_token_for('admin')}"}
    auths = requests.get(f"{s.influx_url}/api/v2/authorizations", headers=headers,
                         timeout=10).json()["authorizations"]
    for auth in auths:
        if auth["description"] == description:
            requests.delete(f"{s.influx_url}/api/v2/authorizations/{auth['id']}",
                            headers=headers, timeout=10).raise_for_status()


def _curl_spy(folder: Path) -> Path:
    """A `curl` first on PATH that appends its argv (what `ps` shows) to a log, then runs curl."""
    real = shutil.which("curl")
    assert real, "curl is needed (the influxdb image has it)"
    folder.mkdir(exist_ok=True)
    spy = folder / "curl"
    spy.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{folder}/argv.log"\n'
                   f'exec {real} "$@"\n')
    spy.chmod(0o700)
    return folder / "argv.log"


def _run(s: Settings, bucket: str, secrets: Path) -> str:
    argv_log = _curl_spy(secrets.parent / "spy")
    argv_log.unlink(missing_ok=True)
    env = {**os.environ, "INFLUX_HOST": s.influx_url, "INFLUX_TOKEN": s.influx_token_for("admin"),
           "INFLUX_ORG": s.influx_org, "IOC_INFLUX_BUCKET": bucket,
           "IOC_SECRETS_DIR": str(secrets), "IOC_SECRETS_OWNER": str(os.getuid()),
           "PATH": f"{argv_log.parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    argv = argv_log.read_text()
    assert "/api/v2/buckets" in argv  # the spy saw the script's requests
    issued = (secrets / "influx-read.token").read_text()
    tokens = {"operator": s.influx_token_for("admin"), "issued": issued}
    # no token on any curl command line (names only: a failure must not print the tokens)
    assert [name for name, token in tokens.items() if token in argv] == []
    return done.stdout


def _status(s: Settings, token: str, method: str, path: str, params: dict[str, str],
            data: str | None = None) -> int:
    return requests.request(method, f"{s.influx_url}{path}", params=params, data=data,
                            headers={"Authorization": f"Token {token}"}, timeout=10).status_code


def test_grafana_gets_a_read_only_token_kept_until_it_stops_working(
        influx_service: Settings, bucket: str, tmp_path: Path) -> None:
    s, secrets = influx_service, tmp_path / "secrets"
    assert "issued" in _run(s, bucket, secrets)
    token_file = secrets / "influx-read.token"
    token = token_file.read_text()
    assert token and token != s.influx_token_for("admin")
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600

    query = {"db": bucket, "q": "SHOW MEASUREMENTS"}
    assert _status(s, token, "GET", "/query", params=query) == 200
    write = {"org": s.influx_org, "bucket": bucket}
    assert _status(s, token, "POST", "/api/v2/write", params=write, data="m v=1") in (401, 403)
    assert _status(s, token, "POST", "/api/v2/write", data="m v=1",
                   params={"org": s.influx_org, "bucket": s.influx_bucket}) in (401, 403)

    assert "is valid" in _run(s, bucket, secrets)  # the second run keeps it
    assert token_file.read_text() == token

    _revoke(s, f"ioc-grafana-read {bucket}")
    assert "issued" in _run(s, bucket, secrets)  # a revoked token is replaced
    assert token_file.read_text() != token
    assert _status(s, token_file.read_text(), "GET", "/query", params=query) == 200
