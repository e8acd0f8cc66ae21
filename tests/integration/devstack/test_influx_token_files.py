"""`ioc services influx-tokens` (docker compose's pipeline-tokens one-shot) against the local
InfluxDB: the worker's file holds a write-only token, the API's a read-only one."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from ioc.core.settings import Settings, load_settings, read_env_file
from ioc.storage.influx_tokens import InfluxAdmin, revoke_scoped_tokens
from ioc.testing.influx import mapped_bucket
from ioc.testing.processes import REPO_ROOT


@pytest.fixture
def bucket(influx_service: Settings) -> Iterator[str]:
    with mapped_bucket(influx_service, "test-tokfiles") as name:
        yield name
        admin = InfluxAdmin(influx_service.influx_url, influx_service.influx_token_for("admin"))
        try:
            revoke_scoped_tokens(admin, influx_service.influx_org, name)
        finally:
            admin.close()


def _run(s: Settings, bucket: str, files: tuple[Path, Path],
         token: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")}
    env.update({"IOC_INFLUX_URL": s.influx_url, "IOC_INFLUX_ORG": s.influx_org,
                "IOC_INFLUX_BUCKET": bucket, "IOC_STATE_DIR": str(files[0].parent / "state")})
    if token is not None:
        env["IOC_INFLUX_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "ioc", "services", "influx-tokens",
                           "--write-env", str(files[0]), "--read-env", str(files[1])],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60,
                          check=False)


def _status(s: Settings, token: str, method: str, path: str, params: dict[str, str],
            data: str | None = None) -> int:
    return requests.request(method, f"{s.influx_url}{path}", params=params, data=data,
                            headers={"Authorization": f"Token {token}"}, timeout=10).status_code


def _rows(s: Settings, token: str, db: str) -> int:
    """Points of measurement `m` InfluxQL shows this token (0 when refused in any way)."""
    response = requests.get(f"{s.influx_url}/query", params={"db": db, "q": "SELECT * FROM m"},
                            headers={"Authorization": f"Token {token}"}, timeout=10)
    if response.status_code != 200:
        return 0
    results = response.json().get("results") or [{}]
    series = results[0].get("series") or []
    return sum(len(one.get("values") or []) for one in series)


def test_each_consumer_gets_only_its_scope_kept_across_runs(
        influx_service: Settings, bucket: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, eventually: Callable[..., None]) -> None:
    s = influx_service
    files = (tmp_path / "worker" / "influx.env", tmp_path / "api" / "influx.env")
    done = _run(s, bucket, files, s.influx_token_for("admin"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("issued") == 2
    write = read_env_file(files[0])["IOC_INFLUX_WRITE_TOKEN"]
    read = read_env_file(files[1])["IOC_INFLUX_READ_TOKEN"]
    assert set(read_env_file(files[0])) == {"IOC_INFLUX_WRITE_TOKEN"}  # nothing else
    assert set(read_env_file(files[1])) == {"IOC_INFLUX_READ_TOKEN"}
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    assert s.influx_token_for("admin") not in files[0].read_text() + files[1].read_text()
    assert s.influx_token_for("admin") not in done.stdout + done.stderr

    point = {"org": s.influx_org, "bucket": bucket}
    assert _status(s, write, "POST", "/api/v2/write", point, "m v=1") == 204
    eventually(lambda: _rows(s, read, bucket) == 1, timeout=10,
               what="the written point, read with the read token")
    assert _rows(s, write, bucket) == 0  # the point is there; the write token cannot see it
    assert _status(s, read, "POST", "/api/v2/write", point, "m v=1") in (401, 403)
    other = {"org": s.influx_org, "bucket": s.influx_bucket}  # nor any other bucket
    assert _status(s, write, "POST", "/api/v2/write", other, "m v=1") in (401, 403)

    # the worker's process finds its token through IOC_CREDENTIALS, as in the container
    monkeypatch.delenv("IOC_INFLUX_WRITE_TOKEN", raising=False)
    monkeypatch.setenv("IOC_CREDENTIALS", str(files[0]))
    assert load_settings().influx_token_for("write") == write

    again = _run(s, bucket, files, s.influx_token_for("admin"))
    assert again.returncode == 0 and again.stdout.count("kept") == 2, again.stderr
    assert read_env_file(files[0])["IOC_INFLUX_WRITE_TOKEN"] == write


def test_a_missing_operator_token_is_a_clear_error(influx_service: Settings, bucket: str,
                                                   tmp_path: Path) -> None:
    files = (tmp_path / "w.env", tmp_path / "r.env")
    done = _run(influx_service, bucket, files, token=None)
    assert done.returncode != 0
    assert "IOC_INFLUX_TOKEN is not set" in done.stderr
    assert not files[0].exists() and not files[1].exists()
