"""InfluxDB 2.7 from a locally built `influxd`: start, first-run setup, DBRP, scoped tokens."""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import requests

from ioc.core.errors import ServiceError
from ioc.core.settings import Settings, credentials_file
from ioc.devstack.credentials import store_credentials
from ioc.devstack.filemodes import open_private
from ioc.devstack.process import (
    ServiceStatus,
    running_pid,
    start_detached,
    stop_process,
    wait_until,
)
from ioc.storage.influx_tokens import SCOPES, InfluxAdmin, ensure_scoped_tokens

__all__ = [
    "INFLUXD_VERSION",
    "ensure_dbrp",
    "ensure_setup",
    "ensure_tokens",
    "health",
    "influxd_binary",
    "start",
    "status",
    "stop",
]

log = logging.getLogger(__name__)

NAME = "influxdb"
INFLUXD_VERSION = os.environ.get("IOC_INFLUXD_VERSION", "v2.7.12")
BUILD_SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "local" / "build_influxd.sh"
_TIMEOUT = 5.0


def _cache() -> Path:
    return Path(os.environ.get("IOC_CACHE_DIR", Path.home() / ".cache" / "ioc"))


def cached_binary() -> Path:
    """Path of the cached influxd (`IOC_INFLUXD_BIN` overrides)."""
    override = os.environ.get("IOC_INFLUXD_BIN")
    return Path(override) if override else _cache() / f"influxd-{INFLUXD_VERSION}" / "influxd"


def influxd_binary(state: Path, progress: Callable[[str], None]) -> Path:
    """The influxd binary, building it once per machine with deploy/local/build_influxd.sh."""
    binary = cached_binary()
    if os.access(binary, os.X_OK):
        return binary
    if os.environ.get("IOC_INFLUXD_BIN"):
        raise ServiceError(f"IOC_INFLUXD_BIN={binary} is not an executable file")
    build_log = state / "logs" / "influxd-build.log"
    progress(f"building influxd {INFLUXD_VERSION} (first run, 10-30 min; log {build_log})…")
    # the script serializes builds with flock, so concurrent `up`s wait and reuse the binary
    with open_private(build_log) as out:
        result = subprocess.run(["bash", str(BUILD_SCRIPT)], stdout=subprocess.PIPE,
                                stderr=out, check=False)
    if result.returncode != 0 or not os.access(binary, os.X_OK):
        raise ServiceError(f"building influxd failed (exit {result.returncode}); "
                           f"see {build_log}")
    return binary


def _paths(state: Path) -> dict[str, Path]:
    base = state / NAME
    return {"dir": base, "bolt": base / "influxd.bolt", "engine": base / "engine",
            "sqlite": base / "influxd.sqlite", "pid": state / "run" / "influxd.pid",
            "log": state / "logs" / "influxd.log"}


def health(url: str) -> dict[str, Any] | None:
    """The /health document, or None when nothing answers."""
    try:
        response = requests.get(f"{url}/health", timeout=_TIMEOUT)
        body: dict[str, Any] = response.json()
        return body
    except (requests.RequestException, ValueError):
        return None


def _passes(url: str) -> bool:
    doc = health(url)
    return doc is not None and doc.get("status") == "pass"


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


def ensure_setup(url: str, creds: Mapping[str, str]) -> bool:
    """Run the first-run setup with the generated token; True if it ran now."""
    allowed = requests.get(f"{url}/api/v2/setup", timeout=_TIMEOUT).json().get("allowed")
    token = creds["IOC_INFLUX_TOKEN"]
    if allowed:
        body = {"username": "admin", "password": creds["IOC_INFLUX_ADMIN_PASSWORD"],
                "org": creds["IOC_INFLUX_ORG"], "bucket": creds["IOC_INFLUX_BUCKET"],
                "token": token}
        response = requests.post(f"{url}/api/v2/setup", json=body, timeout=_TIMEOUT)
        if response.status_code >= 300:
            raise ServiceError(f"influxdb setup failed: {response.status_code} {response.text}")
        log.info("influxdb: first-run setup done (org %s)", body["org"])
    if not _token_ok(url, creds):
        raise ServiceError(f"influxdb at {url} rejects the token in credentials.env; "
                           "it was set up with other credentials")
    return bool(allowed)


def _token_ok(url: str, creds: Mapping[str, str]) -> bool:
    response = requests.get(f"{url}/api/v2/orgs", params={"org": creds["IOC_INFLUX_ORG"]},
                            headers=_auth(creds["IOC_INFLUX_TOKEN"]), timeout=_TIMEOUT)
    return response.status_code == 200


def _influxql_works(url: str, token: str, db: str) -> bool:
    response = requests.get(f"{url}/query", params={"db": db, "q": "SHOW MEASUREMENTS"},
                            headers=_auth(token), timeout=_TIMEOUT)
    if response.status_code != 200:
        return False
    results = response.json().get("results", [{}])
    return not any("error" in result for result in results)


def ensure_dbrp(url: str, creds: Mapping[str, str]) -> None:
    """Map the bucket as InfluxQL database `<bucket>`/`autogen` unless InfluxQL works."""
    token, bucket = creds["IOC_INFLUX_TOKEN"], creds["IOC_INFLUX_BUCKET"]
    if _influxql_works(url, token, bucket):
        return
    headers = _auth(token)
    found = requests.get(f"{url}/api/v2/buckets", params={"name": bucket,
                         "org": creds["IOC_INFLUX_ORG"]}, headers=headers,
                         timeout=_TIMEOUT).json().get("buckets", [])
    if not found:
        raise ServiceError(f"influxdb: bucket {bucket!r} does not exist")
    body = {"bucketID": found[0]["id"], "orgID": found[0]["orgID"], "database": bucket,
            "retention_policy": "autogen", "default": True}
    response = requests.post(f"{url}/api/v2/dbrps", json=body, headers=headers,
                             timeout=_TIMEOUT)
    if response.status_code >= 300 or not _influxql_works(url, token, bucket):
        raise ServiceError(f"influxdb: InfluxQL on db={bucket} does not work: {response.text}")
    log.info("influxdb: created DBRP mapping %s/autogen", bucket)


def ensure_tokens(url: str, creds: Mapping[str, str]) -> dict[str, str]:
    """Create (or keep) the scoped write/read tokens and store them in credentials.env."""
    admin = InfluxAdmin(url, creds["IOC_INFLUX_TOKEN"])
    try:
        tokens = ensure_scoped_tokens(admin, creds["IOC_INFLUX_ORG"], creds["IOC_INFLUX_BUCKET"],
                                      creds)
    finally:
        admin.close()
    store_credentials(credentials_file(), tokens)
    return tokens


def _ready(settings: Settings, creds: Mapping[str, str]) -> None:
    try:
        ensure_setup(settings.influx_url, creds)
        ensure_dbrp(settings.influx_url, creds)
        ensure_tokens(settings.influx_url, creds)
    except (requests.RequestException, ValueError) as exc:
        raise ServiceError(f"influxdb at {settings.influx_url}: {exc}") from exc


def _bind_address(url: str) -> str:
    return url.split("://", 1)[-1].rstrip("/")


def start(settings: Settings, state: Path, creds: Mapping[str, str],
          progress: Callable[[str], None]) -> str:
    """Ensure influxd runs, is set up and serves InfluxQL; returns what was done."""
    paths = _paths(state)
    url = settings.influx_url
    if running_pid(paths["pid"], "influxd") is not None or _passes(url):
        wait_until(lambda: _passes(url), timeout=60, what=NAME, log_file=paths["log"])
        _ready(settings, creds)
        ours = running_pid(paths["pid"], "influxd") is not None
        return "already running" if ours else "already running (not started by ioc)"
    binary = influxd_binary(state, progress)
    paths["engine"].mkdir(parents=True, exist_ok=True)
    cmd = [str(binary), "--bolt-path", str(paths["bolt"]), "--engine-path",
           str(paths["engine"]), "--sqlite-path", str(paths["sqlite"]),
           "--http-bind-address", _bind_address(url), "--reporting-disabled",
           "--log-level", "info"]
    proc = start_detached(cmd, log_file=paths["log"], pid_file=paths["pid"])
    wait_until(lambda: _passes(url), timeout=90, what=NAME, proc=proc, log_file=paths["log"])
    if requests.get(f"{url}/api/v2/setup", timeout=_TIMEOUT).json().get("allowed"):
        progress("first-run setup (org, bucket, token)…")
    _ready(settings, creds)
    return "started"


def stop(state: Path) -> bool:
    """Stop the influxd this tool started."""
    return stop_process(_paths(state)["pid"], "influxd", timeout=30)


def status(settings: Settings, state: Path, creds: Mapping[str, str]) -> ServiceStatus:
    """Version, address and health (pass + token accepted) of the local InfluxDB."""
    pid = running_pid(_paths(state)["pid"], "influxd")
    doc = health(settings.influx_url)
    reported = str(doc.get("version", "?")) if doc else ""
    if not reported or reported == "dev":  # a source build without ldflags says "dev"
        reported = INFLUXD_VERSION if os.access(cached_binary(), os.X_OK) else "not built"
    version = reported
    if doc is None or doc.get("status") != "pass":
        return ServiceStatus(NAME, version, settings.influx_url, pid, False, "/health not pass")
    if not _setup_done(settings.influx_url):
        return ServiceStatus(NAME, version, settings.influx_url, pid, False, "setup not done")
    try:
        ok = "IOC_INFLUX_TOKEN" in creds and _token_ok(settings.influx_url, creds)
    except requests.RequestException as exc:
        return ServiceStatus(NAME, version, settings.influx_url, pid, False, str(exc))
    missing = [scope.key for scope in SCOPES if scope.key not in creds]
    detail = ("token in credentials.env rejected" if not ok else
              f"no {', '.join(missing)} (run `ioc services up`)" if missing else "")
    return ServiceStatus(NAME, version, settings.influx_url, pid, ok and not missing, detail)


def _setup_done(url: str) -> bool:
    try:
        response = requests.get(f"{url}/api/v2/setup", timeout=_TIMEOUT)
        return not response.json().get("allowed", True)
    except (requests.RequestException, ValueError):
        return False
