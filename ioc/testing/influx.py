"""Throw-away InfluxDB buckets for integration tests and benches."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from influxdb_client import InfluxDBClient
from influxdb_client.domain.dbrp_create import DBRPCreate
from influxdb_client.service.dbr_ps_service import DBRPsService

from ioc.core.settings import Settings

__all__ = ["mapped_bucket"]


@contextmanager
def mapped_bucket(settings: Settings, prefix: str = "test", *, dbrp: bool = True) -> Iterator[str]:
    """A unique bucket, deleted afterwards; with `dbrp` also InfluxQL database `<name>`."""
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    with InfluxDBClient(url=settings.influx_url, org=settings.influx_org,
                        token=settings.influx_token.get_secret_value()) as client:
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
