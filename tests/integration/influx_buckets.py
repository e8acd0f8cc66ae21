"""One way for integration tests to get a throw-away InfluxDB bucket that InfluxQL can read."""

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
def mapped_bucket(settings: Settings, prefix: str = "test") -> Iterator[str]:
    """A unique bucket mapped as InfluxQL database `<name>` (DBRP), deleted afterwards."""
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    with InfluxDBClient(url=settings.influx_url, org=settings.influx_org,
                        token=settings.influx_token.get_secret_value()) as client:
        bucket = client.buckets_api().create_bucket(bucket_name=name, org=settings.influx_org)
        dbrps = DBRPsService(client.api_client)
        dbrp = dbrps.post_dbrp(DBRPCreate(org_id=bucket.org_id, bucket_id=bucket.id,
                                          database=name, retention_policy="autogen",
                                          default=True))
        try:
            yield name
        finally:
            dbrps.delete_dbrpid(dbrp.id, org_id=bucket.org_id)
            client.buckets_api().delete_bucket(bucket)
