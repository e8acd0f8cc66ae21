"""Throw-away InfluxDB buckets for integration tests and benches.

Creating buckets, mappings and tokens takes the operator token (`influx_token`, in the
settings of ioc.core.admin_settings.load_admin_settings); what runs
against a bucket gets only that bucket's scoped write and read tokens, as in production.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from influxdb_client import InfluxDBClient
from influxdb_client.domain.dbrp_create import DBRPCreate
from influxdb_client.service.dbr_ps_service import DBRPsService
from pydantic import SecretStr

from ioc.core.settings import Settings
from ioc.storage.influx_tokens import (
    READ_TOKEN_KEY,
    WRITE_TOKEN_KEY,
    InfluxAdmin,
    ensure_scoped_tokens,
    revoke_scoped_tokens,
)

__all__ = ["ScopedBucket", "mapped_bucket", "scoped_bucket"]


@contextmanager
def mapped_bucket(settings: Settings, prefix: str = "test", *, dbrp: bool = True) -> Iterator[str]:
    """A unique bucket, deleted afterwards; with `dbrp` also InfluxQL database `<name>`."""
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    with InfluxDBClient(url=settings.influx_url, org=settings.influx_org,
                        token=settings.influx_token_for("admin")) as client:
        bucket = client.buckets_api().create_bucket(bucket_name=name, org=settings.influx_org)
        dbrps = DBRPsService(client.api_client)
        mapping = dbrps.post_dbrp(DBRPCreate(org_id=bucket.org_id, bucket_id=bucket.id,
                                             database=name, retention_policy="autogen",
                                             default=True)) if dbrp else None
        try:
            yield name
        finally:
            if mapping is not None:
                dbrps.delete_dbrpid(mapping.id, org_id=bucket.org_id)
            client.buckets_api().delete_bucket(bucket)


@dataclass(frozen=True)
class ScopedBucket:
    """A throw-away bucket and Settings pointing at it with its own write and read tokens."""

    name: str
    settings: Settings

    def env(self) -> dict[str, str]:
        """The variables a child process needs to write and read this bucket."""
        s = self.settings
        return {"IOC_INFLUX_BUCKET": self.name,
                WRITE_TOKEN_KEY: s.influx_token_for("write"),
                READ_TOKEN_KEY: s.influx_token_for("read")}


@contextmanager
def scoped_bucket(settings: Settings, prefix: str = "test", *,
                  dbrp: bool = True) -> Iterator[ScopedBucket]:
    """`mapped_bucket` plus write-only and read-only tokens for it, revoked afterwards."""
    admin = InfluxAdmin(settings.influx_url, settings.influx_token_for("admin"))
    with mapped_bucket(settings, prefix, dbrp=dbrp) as name:
        try:
            tokens = ensure_scoped_tokens(admin, settings.influx_org, name, {})
            scoped = settings.model_copy(update={
                "influx_bucket": name,
                "influx_write_token": SecretStr(tokens[WRITE_TOKEN_KEY]),
                "influx_read_token": SecretStr(tokens[READ_TOKEN_KEY])})
            yield ScopedBucket(name, scoped)
        finally:
            revoke_scoped_tokens(admin, settings.influx_org, name)
            admin.close()
