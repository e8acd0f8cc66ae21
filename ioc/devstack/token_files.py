"""The worker's and the API's scoped InfluxDB tokens, each in a file of its own.

For docker compose: a one-shot container holding the operator token issues (or keeps) the
write-only and the read-only token for the bucket, as `ioc services up` does natively, and
leaves each in a `KEY=value` file (mode 0600) in a volume that only its consumer mounts. The
consumer points `IOC_CREDENTIALS` at its file, so the worker never sees the read token's
volume, the API never holds the write token, and neither ever sees the operator token.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import requests

from ioc.core.errors import ServiceError
from ioc.core.private_files import write_private
from ioc.core.settings import read_env_file
from ioc.devstack.influxdb import ensure_dbrp
from ioc.storage.influx_tokens import (
    READ_TOKEN_KEY,
    WRITE_TOKEN_KEY,
    InfluxAdmin,
    ensure_scoped_tokens,
)

__all__ = ["InfluxTarget", "issue_token_files"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class InfluxTarget:
    """Where the tokens are minted: server, organization, bucket and the operator token."""

    url: str
    org: str
    bucket: str
    operator_token: str


def _current(files: dict[str, Path]) -> dict[str, str]:
    """The tokens the files hold now (kept when still valid)."""
    current: dict[str, str] = {}
    for key, path in files.items():
        value = read_env_file(path).get(key, "")
        if value:
            current[key] = value
    return current


def issue_token_files(target: InfluxTarget, write_env: Path, read_env: Path) -> dict[str, bool]:
    """Map the bucket for InfluxQL, then write each scoped token to its file.

    Idempotent: a token that is still active with exactly its permissions is kept. Returns,
    per file key, whether its token changed.
    """
    files = {WRITE_TOKEN_KEY: write_env, READ_TOKEN_KEY: read_env}
    current = _current(files)
    creds = {"IOC_INFLUX_TOKEN": target.operator_token, "IOC_INFLUX_ORG": target.org,
             "IOC_INFLUX_BUCKET": target.bucket}
    try:
        ensure_dbrp(target.url, creds)
    except (requests.RequestException, ValueError) as exc:
        raise ServiceError(f"InfluxDB at {target.url}: {exc}") from exc
    admin = InfluxAdmin(target.url, target.operator_token)
    try:
        tokens = ensure_scoped_tokens(admin, target.org, target.bucket, current)
    finally:
        admin.close()
    changed: dict[str, bool] = {}
    for key, path in files.items():
        changed[key] = tokens[key] != current.get(key)
        if changed[key] or not path.exists():
            write_private(path, f"{key}={tokens[key]}\n")
    return changed
